"""Payload specs (the spirit of tractor's test_pldrx_limiting.py)."""
import typing

import pytest

import libtractor as tractor
from tmods import basic


class Point(typing.TypedDict):
    x: int
    y: float


@pytest.mark.parametrize("t, spec", [
    (int, "int"), (None, "nil"), (type(None), "nil"), (int | None, "int|nil"),
    (typing.Optional[str], "str|nil"), (list[str], "[str]"), (list, "list"),
    (dict, "dict"), (dict[str, int], "dict"), (bytes, "bytes"), (typing.Any, "any"),
    (list[int | None], "[int|nil]"), (Point, "{x:int,y:float}"), ("int|str", "int|str"),
])
def test_to_spec(t, spec):
    assert tractor.to_spec(t) == spec


def test_to_spec_rejects_other_types():
    with pytest.raises(TypeError):
        tractor.to_spec(set)


@pytest.fixture
def portal():
    with tractor.open_nursery() as an:
        p = an.start_actor("typed", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            yield p
        p.cancel_actor()


def test_callee_spec_accepts_matching_values(portal):
    with portal.open_context(basic.typed_echo, first=7) as (ctx, first):
        assert first == 7
        with ctx.open_stream() as s:
            s.send(3)
            assert s.receive() == 3


def test_callee_spec_rejects_a_bad_value(portal):
    with pytest.raises(tractor.MsgTypeError):
        with portal.open_context(basic.typed_echo, first=7) as (ctx, first):
            with ctx.open_stream() as s:
                s.send("not an int")
                s.receive()


def test_callee_started_against_its_own_spec(portal):
    with pytest.raises(tractor.MsgTypeError) as ei:
        with portal.open_context(basic.bad_started):
            pass
    assert isinstance(ei.value, tractor.RemoteActorError)


def test_caller_spec_rejects_the_first_value(portal):
    with pytest.raises(tractor.MsgTypeError):
        with portal.open_context(basic.echo, first="str", pld_spec=int):
            pass


def test_caller_limit_plds(portal):
    with portal.open_context(basic.echo, first=1) as (ctx, first):
        ctx.limit_plds(list[int])
        with ctx.open_stream() as s:
            s.send([1, 2])
            assert s.receive() == [1, 2]
            s.send(["x"])
            with pytest.raises(tractor.MsgTypeError):
                s.receive()
            ctx.cancel()


def test_bad_spec_strings_are_value_errors(portal):
    with pytest.raises(ValueError):
        with portal.open_context(basic.echo, pld_spec="[int"):
            pass
