"""An exception group raised in a child reaches the caller boxed, like any
other remote error (its builtin type cannot be mixed into the box: an
ExceptionGroup is built from a list of exceptions, not from a message)."""
import pytest

import libtractor as tractor


@pytest.mark.deadline(60)
def test_a_remote_exception_group_is_boxed():
    with tractor.open_nursery() as an:
        p = an.start_actor("grouper", enable_modules=["tmods.groups"])
        with pytest.raises(tractor.RemoteActorError) as ei:
            p.run_from_ns("tmods.groups", "raise_group")
        e = ei.value
        assert e.boxed_type_str == "ExceptionGroup"
        assert e.src_uid[0] == "grouper"
        assert "ValueError: a" in e.tb_str and "KeyError: 'b'" in e.tb_str
        p.cancel_actor()
