"""RPC: results, remote errors and their tracebacks (the spirit of tractor's
test_rpc.py and the error parts of test_spawning.py)."""
import pytest

import libtractor as tractor
from tmods import basic


@pytest.fixture
def portal():
    with tractor.open_nursery() as an:
        p = an.start_actor("svc", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            yield p
        p.cancel_actor()


def test_unknown_module_is_module_not_exposed(portal):
    with pytest.raises(tractor.RemoteActorError) as ei:
        portal.run_from_ns("nomod", "f")
    assert isinstance(ei.value, tractor.ModuleNotExposed)
    assert ei.value.boxed_type is tractor.ModuleNotExposed
    assert "nomod" in ei.value.message
    # the channel is still usable
    assert portal.run(basic.add, x=1, y=2) == 3


def test_unknown_function_is_attribute_error(portal):
    with pytest.raises(AttributeError) as ei:
        portal.run_from_ns("tmods.basic", "nofunc")
    assert isinstance(ei.value, tractor.RemoteActorError)
    assert ei.value.boxed_type_str == "AttributeError"
    # private and imported names are not served
    with pytest.raises(AttributeError):
        portal.run_from_ns("tmods.basic", "STATE")
    assert portal.run(basic.add, x=2, y=2) == 4


def test_python_exception_arrives_with_type_and_traceback(portal):
    with pytest.raises(KeyError) as ei:
        portal.run(basic.raise_key_error)
    e = ei.value
    assert isinstance(e, tractor.RemoteActorError)
    assert e.boxed_type_str == "KeyError" and e.src_type_str == "KeyError"
    assert e.src_uid[0] == "svc" and e.relay_path[0][0] == "svc"
    assert e.tb_str.startswith("Traceback (most recent call last):")
    assert 'return {}["missing"]' in e.tb_str
    assert "basic.py" in e.tb_str and "in raise_key_error" in e.tb_str
    assert "KeyError" in str(e)


def test_wrong_arguments_are_type_errors(portal):
    with pytest.raises(TypeError) as ei:
        portal.run(basic.add, x=1)
    assert "missing 1 required positional argument" in ei.value.message


def test_unencodable_return_value_is_msg_type_error(portal):
    with pytest.raises(tractor.MsgTypeError) as ei:
        portal.run(basic.return_unencodable)
    assert "set" in ei.value.message


def test_unencodable_argument_fails_before_sending(portal):
    with pytest.raises(tractor.MsgTypeError, match="'set'"):
        portal.run(basic.echo_value, value={1, 2})
    with pytest.raises(tractor.MsgTypeError, match="64-bit"):
        portal.run(basic.echo_value, value=2**64)
    assert portal.run(basic.echo_value, value=2**64 - 1) == 2**64 - 1


def test_fn_refs(portal):
    assert portal.run("tmods.basic", "add", x=1, y=1) == 2
    assert portal.run("tmods.basic:add", x=1, y=2) == 3
    assert portal.run("tmods.basic.add", x=1, y=3) == 4


def test_timeout_of_a_call_cancels_it(portal):
    with pytest.raises(tractor.TooSlowError):
        with tractor.fail_after(0.3):
            portal.run(basic.cancellable_sleep, seconds=10)
    assert isinstance(tractor.TooSlowError(), TimeoutError)
    # the abandoned call was cancelled in the child
    import time
    deadline = time.monotonic() + 5
    while not portal.run(basic.get_state).get("sleep_cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_many_sequential_calls(portal):
    for i in range(200):
        assert portal.run(basic.add, x=i, y=1) == i + 1
