"""What a libtractor parent sends a Python tractor child (lang="tractor"),
checked against the wire spec (tractor-wire-spec.md 4.2-4.3, checklist item
10) with a stand-in for tractor's child bootloader (fake_tractor/tractor/
_child.py): the command line tractor's _child parses, and the SpawnSpec
tractor's Actor._from_parent reads. Real tractor children are
test_tractor_interop.py (skipped where Python tractor is not installed)."""
import json
import os
import sys
from ast import literal_eval

import pytest

import libtractor as tractor
from conftest import eventually

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_tractor")

RUNTIME_VARS = ["_is_root", "_root_mailbox", "_root_addrs", "_enable_tpts", "_registry_addrs",
                "_debug_mode", "repl_fixture", "use_greenback", "use_stackscope",
                "_is_infected_aio"]


@pytest.fixture
def report(tmp_path, monkeypatch):
    """Where the fake tractor child writes what it received; the fake is
    first on the children's PYTHONPATH."""
    path = tmp_path / "report.json"
    monkeypatch.setenv("FAKE_TRACTOR_REPORT", str(path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([FAKE, os.environ.get("PYTHONPATH", "")]))

    def read() -> dict:
        assert eventually(path.exists, 10), "the tractor child wrote no report"
        return json.loads(path.read_text())
    return read


def wire_addr(maddr: str) -> list:
    """A multiaddr as tractor's wire form: [host, port] or [dir, file]."""
    if maddr.startswith("/ip4/") or maddr.startswith("/ip6/"):
        parts = maddr.split("/")
        return [parts[2], int(parts[4])]
    path = maddr[len("/unix"):]
    return [os.path.dirname(path), os.path.basename(path)]


def keys(m: dict) -> list:
    return [k for k, _ in m["__map__"]]


def plain(v):
    if isinstance(v, dict) and "__map__" in v:
        return {k: plain(x) for k, x in v["__map__"]}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def no_bin(v, where="SpawnSpec") -> None:
    """Strings must be msgpack str, never bin (checklist item 2)."""
    if isinstance(v, dict) and "__bin__" in v:
        raise AssertionError(f"{where} is msgpack bin")
    if isinstance(v, dict) and "__map__" in v:
        for k, x in v["__map__"]:
            no_bin(x, f"{where}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            no_bin(x, f"{where}[{i}]")


def check_spawn(r: dict, uid, parent_addr: list, root_addr: list, transport: str,
                modules: list) -> dict:
    assert r["problems"] == []
    # the command line: python -m tractor._child --uid ... --parent_addr ... --loglevel ...
    assert r["argv"][0].endswith(os.path.join("tractor", "_child.py"))
    assert r["executable"] == os.environ.get("TRACTOR_PYTHON", r["executable"])
    argv = r["argv"][1:]
    assert argv[0::2] == ["--uid", "--parent_addr", "--loglevel"]
    assert argv[1] == str(tuple(uid))                       # str((name, uuid))
    assert list(literal_eval(argv[3])) == parent_addr       # str() of our accept addr
    assert argv[5] == "ERROR"
    # the parent's Aid
    assert r["parent_aid"]["msg_type"] == "Aid"
    # the SpawnSpec: fields in msgspec's order, strings as str
    spec = r["spawnspec"]
    no_bin(spec)
    assert keys(spec) == ["msg_type", "_parent_main_data", "_runtime_vars", "enable_modules",
                          "reg_addrs", "bind_addrs"]
    p = plain(spec)
    assert p["_parent_main_data"] == {}
    assert keys(dict(spec["__map__"])["_runtime_vars"]) == RUNTIME_VARS
    rv = p["_runtime_vars"]
    assert rv["_is_root"] is False
    assert rv["_debug_mode"] is False and rv["_is_infected_aio"] is False
    assert rv["repl_fixture"] is False and rv["use_greenback"] is False
    assert rv["_root_mailbox"] == root_addr
    assert rv["_root_addrs"] == [root_addr]
    assert rv["_enable_tpts"] == [transport]
    assert rv["_registry_addrs"] == p["reg_addrs"] and p["reg_addrs"]
    assert p["enable_modules"] == {m: m for m in modules}
    assert p["bind_addrs"] is None
    return p


@pytest.mark.deadline(60)
def test_a_tractor_child_gets_the_spec_command_line_and_spawnspec(transport, report):
    with tractor.open_nursery(name="tree-root", transport=transport) as an:
        root = wire_addr(tractor.current_actor().addr)
        p = an.start_actor("tractor-kid", lang="tractor", enable_modules=["pkg.mod", "other"])
        uid = p.uid
    check_spawn(report(), uid, root, root, transport, ["pkg.mod", "other"])


@pytest.mark.deadline(60)
def test_a_middle_actor_relays_the_root_addresses(transport, report):
    """tractor copies its runtime vars into each child's: a grandchild's
    _root_mailbox is the tree root's address, not its parent's."""
    with tractor.open_nursery(name="tree-root", transport=transport) as an:
        root = wire_addr(tractor.current_actor().addr)
        mid = an.start_actor("middle", enable_modules=["tmods.tractor_spawner"])
        uid = mid.run_from_ns("tmods.tractor_spawner", "spawn_tractor_child", name="tractor-grandkid",
                              enable_modules=["m"])
        mid.cancel_actor()
    r = report()
    parent = list(literal_eval(r["argv"][4]))
    assert parent != root                                     # the middle actor's address
    check_spawn(r, uid, parent, root, transport, ["m"])


def test_the_interpreter_is_tractor_python(report, monkeypatch):
    """$TRACTOR_PYTHON runs tractor children (tractor uses sys.executable)."""
    monkeypatch.setenv("TRACTOR_PYTHON", sys.executable)
    with tractor.open_nursery(name="tree-root") as an:
        an.start_actor("tractor-kid", lang="tractor")
    assert report()["executable"] == sys.executable
