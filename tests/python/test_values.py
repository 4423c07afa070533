"""Value conversion Python <-> msgpack (in the extension, in C), locally and
through a child actor, and the asyncio integration."""
import asyncio
import math

import pytest

import libtractor as tractor
from libtractor import _tractor_c as _c
from tmods import basic

ROUND_TRIP = [
    None, True, False, 0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536,
    2**31 - 1, 2**31, 2**32, -2**31, -2**31 - 1, 2**63 - 1, -2**63, 2**64 - 1,
    0.0, -0.5, 1e300, math.inf, "", "a", "é日本", "x" * 40, "y" * 300, "z" * 70000,
    b"", b"\x00\xff", b"b" * 300, b"c" * 70000, [], [1, "two", 3.0, None],
    list(range(20)), list(range(70000)), {}, {"a": 1, "b": [True, {"c": None}]},
    {str(i): i for i in range(20)}, {1: "int key", b"k": "bytes key"},
    [[[[[]]]]],
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_local_round_trip(value):
    assert _c.unpack(_c.pack(value)) == value


def test_tuples_become_lists_and_nan_survives():
    assert _c.unpack(_c.pack((1, (2, 3)))) == [1, [2, 3]]
    assert math.isnan(_c.unpack(_c.pack(math.nan)))
    assert _c.unpack(_c.pack(bytearray(b"ab"))) == b"ab"


def test_compact_encodings():
    assert _c.pack(None) == b"\xc0"
    assert _c.pack(5) == b"\x05" and _c.pack(-1) == b"\xff"
    assert _c.pack(200) == b"\xcc\xc8"
    assert _c.pack("ab") == b"\xa2ab"
    assert _c.pack([1]) == b"\x91\x01" and _c.pack({"a": 1}) == b"\x81\xa1a\x01"
    assert _c.pack(1.5) == b"\xcb?\xf8\x00\x00\x00\x00\x00\x00"


@pytest.mark.parametrize("value, name", [
    ({1, 2}, "set"), (object(), "object"), (1j, "complex"), (frozenset(), "frozenset"),
    ([1, {2}], "set"), ({"k": print}, "builtin_function_or_method"),
])
def test_unsupported_types_are_msg_type_errors(value, name):
    with pytest.raises(tractor.MsgTypeError, match=f"'{name}'"):
        _c.pack(value)


def test_ints_beyond_64_bits():
    for v in (2**64, -2**63 - 1, 10**30):
        with pytest.raises(tractor.MsgTypeError, match="64-bit"):
            _c.pack(v)


def test_cycles_are_refused():
    a = []
    a.append(a)
    with pytest.raises(tractor.MsgTypeError, match="nested"):
        _c.pack(a)


def test_decoder_is_total():
    for bad in (b"\xc1", b"\x92\x01", b"\xa5ab", b"\xd9", b"\xcd\x01", b"\x01\x02",
                b"\xdd\xff\xff\xff\xff"):
        with pytest.raises(tractor.TractorError):
            _c.unpack(bad)
    with pytest.raises(tractor.MsgTypeError, match="ext"):
        _c.unpack(b"\xd4\x01\x00")
    assert _c.unpack(b"\xca\x3f\xc0\x00\x00") == 1.5  # float32


def test_round_trip_through_a_child():
    with tractor.open_nursery() as an:
        p = an.start_actor("echoer", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            for v in ROUND_TRIP:
                if isinstance(v, dict) and any(not isinstance(k, str) for k in v):
                    continue  # kwargs and results are fine with them, but skip
                assert p.run(basic.echo_value, value=v) == v
            big = {"blob": b"\x01" * (1 << 20), "items": list(range(10000))}
            assert p.run(basic.echo_value, value=big) == big
            # unsupported values are refused before anything is sent
            with pytest.raises(tractor.MsgTypeError):
                p.run(basic.echo_value, value=[{1}])
            assert p.run(basic.add, x=1, y=1) == 2
        p.cancel_actor()


def test_asyncio_receive():
    """stream.areceive() waits on the runtime's pollable fd."""
    with tractor.open_nursery() as an:
        p = an.start_actor("aio", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            with p.open_context(basic.producer, count=30) as (ctx, _):
                with ctx.open_stream() as stream:
                    async def consume():
                        ticks = 0

                        async def ticker():
                            nonlocal ticks
                            while True:
                                ticks += 1
                                await asyncio.sleep(0.001)

                        t = asyncio.create_task(ticker())
                        got = [v async for v in stream]
                        t.cancel()
                        return got, ticks

                    got, ticks = asyncio.run(asyncio.wait_for(consume(), 20))
            assert got == list(range(30))
            assert ctx.outcome == 30
        p.cancel_actor()


def test_help_shows_docstrings():
    import pydoc
    text = pydoc.render_doc(tractor.Portal.open_context, renderer=pydoc.plaintext)
    assert "Start a linked remote task" in text
    assert "ContextCancelled" in (tractor.Context.wait_for_result.__doc__ or "")
    for name in tractor.__all__:
        obj = getattr(tractor, name)
        assert obj.__doc__, f"{name} has no docstring"
