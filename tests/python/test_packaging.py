"""`pip install --no-build-isolation ./bindings/python` works offline and
the installed package runs an actor tree without the build tree."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import HERE

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEBIAN_PY = "/usr/bin/python3"  # Debian's setuptools/wheel (no PyPI here)


def _has(py: str, *mods: str) -> bool:
    return os.path.exists(py) and all(subprocess.run(
        [py, "-c", f"import {m}"], capture_output=True).returncode == 0 for m in mods)


@pytest.mark.deadline(280)
@pytest.mark.skipif(not _has(DEBIAN_PY, "pip", "setuptools", "wheel"),
                    reason="Debian's python3-pip/setuptools/wheel are not installed")
def test_pip_install_offline(tmp_path):
    build_dir = os.environ.get("TR_BUILD_DIR", os.path.join(ROOT, "build"))
    target = tmp_path / "site"
    env = dict(os.environ, TRACTOR_BUILD_DIR=build_dir)
    env.pop("PYTHONPATH", None)
    try:
        proc = subprocess.run(
            [DEBIAN_PY, "-m", "pip", "install", "--no-build-isolation", "--no-index",
             "--no-cache-dir", "--disable-pip-version-check", "--target", str(target),
             os.path.join(ROOT, "bindings", "python")],
            env=env, capture_output=True, text=True, timeout=240)
    finally:
        # pip builds in-tree: leave the source tree as it was
        shutil.rmtree(os.path.join(ROOT, "bindings", "python", "build"), ignore_errors=True)
        shutil.rmtree(os.path.join(ROOT, "bindings", "python", "libtractor.egg-info"),
                      ignore_errors=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "libtractor" / "child.py").exists()
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop("LIBTRACTOR_PARENT_MAIN", None)
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "python", "rpc_bidir_streaming.py")],
        env=env, capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "the server handled 5 values" in run.stdout
