"""What a wheel carries: the demo data, the shapes and contexts, the licence; built without warnings."""
from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Run inside the venv the wheel went into, from a folder outside the checkout.
DEMO_FROM_THE_WHEEL = """
import sys
from app.api.factory import create_app
from app.cli import FIXTURES
from app.runtime.loading import load_demo
import datetime as dt
assert str(FIXTURES).startswith(sys.prefix), FIXTURES
app = create_app({"store": "memory:", "admin_token": "x"})
hub = app.extensions["dfc_hub"]
count, sessions = load_demo(hub.store, FIXTURES / "demo" / "jean-scenario.json", "http://h.test/api/dfc/",
                            dt.datetime.now(dt.timezone.utc))
print(count, len(sessions))
"""


def test_the_licence_file_is_the_agpl_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "AGPL-3.0-or-later" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE") and "Version 3, 19 November 2007" in text


@pytest.mark.slow
def test_a_wheel_builds_without_warnings_and_serves_the_demo_from_its_own_files(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-v", "-w", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    log = built.stdout + built.stderr
    assert not re.findall(r"\w+Warning\b.*", log), re.findall(r"\w+Warning\b.*", log)
    wheel = next(tmp_path.glob("dfc_order_hub-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    target = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies come from this interpreter's site-packages; a .pth there is not read
    # from a path a .pth added, so this checkout's editable install does not shadow the wheel.
    (target / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, timeout=300)
    run = subprocess.run([str(venv / "bin" / "python"), "-c", DEMO_FROM_THE_WHEEL], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["12", "2"]      # resources, sale sessions


@pytest.mark.slow
def test_an_editable_install_says_no_warning(tmp_path):
    """`make` installs with `pip install -e .`: setuptools has nothing to warn about."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--no-deps", "-e", str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert not re.findall(r"\w+Warning\b.*", log), re.findall(r"\w+Warning\b.*", log)
