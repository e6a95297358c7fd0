"""DFC Order Hub: a linked-data order server for food networks speaking DFC.

Importing the package loads nothing but its version: the Flask app is built by
`app.api.factory.create_app`, so the domain and the store can be used without Flask.
"""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("dfc-order-hub")
except metadata.PackageNotFoundError:     # run from a checkout that was never installed
    __version__ = "unknown"
