"""Run every script in examples/python as a test: it must exit 0 in time and
leave no process of its tree behind."""
import os
import subprocess
import sys
import uuid

import pytest

from conftest import eventually

EXAMPLES = os.environ.get("TR_EXAMPLES_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "examples", "python")
SCRIPTS = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py")) \
    if os.path.isdir(EXAMPLES) else []


def tagged(tag: str) -> list[int]:
    """Processes whose environment carries `tag` (the example's whole tree)."""
    out = []
    needle = f"LIBTRACTOR_TEST_TAG={tag}".encode()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


@pytest.mark.parametrize("script", SCRIPTS)
def test_example(script):
    tag = uuid.uuid4().hex
    env = dict(os.environ, LIBTRACTOR_TEST_TAG=tag)
    env.pop("LIBTRACTOR_PARENT_MAIN", None)
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], env=env,
                          capture_output=True, text=True, timeout=120)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert eventually(lambda: not tagged(tag)), f"left behind: {tagged(tag)}"
