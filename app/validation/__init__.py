"""Validation of DFC data: SHACL (validator.py), conformance reports with hints (report.py).

    from app.validation import Validator, default_validator, Report

    app/validation/
      shapes.py       our shapes (shapes/*.ttl) read once into facts, per shape and per target class
      prescreen.py    a fast check from those facts that a payload surely conforms
      _pyshacl.py     every use of pyshacl (the only module that imports it)
      validator.py    Validator: the prescreen, then pyshacl, into a Report of Results
      report.py       the conformance report (endpoint, page, CLI): SHACL + hints (hints.py,
                      shape_hints.py) over what was sent; outputs.py writes it as text, JSON, JUnit

The names below are loaded on first use, so that importing the package does not load pyshacl.
`Result`, one finding, lives in app/errors.py (every error listing what was wrong carries them).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Report": "validator", "Validator": "validator", "BySeverity": "validator",
    "default_validator": "validator", "load_shapes_graph": "shapes",
    "to_rdflib": "_pyshacl",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
