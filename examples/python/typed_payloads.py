"""Typed payloads: a context limited to a payload spec (here a TypedDict,
{x: int, y: int}, or None). A started() value that does not match raises
MsgTypeError in the sender before anything is sent; stream values are
checked where they are received, and a bad one fails the context with a
MsgTypeError that both sides see.

Port of tractor's examples/typed_payloads.py (msgspec Structs there,
TypedDicts here).

Run: PYTHONPATH=build/bindings/python python3 examples/python/typed_payloads.py
"""
import typing

import libtractor as tractor


class Point(typing.TypedDict):
    x: int
    y: int


@tractor.context(pld_spec=Point | None)
def point_doubler(ctx: tractor.Context) -> None:
    """Streams back each received Point with doubled fields."""
    try:
        ctx.started("this is no Point..")        # checked locally, never sent
    except tractor.MsgTypeError:
        print("child: just as planned, a str payload failed the Point|None spec")
    ctx.started(Point(x=0, y=0))
    with ctx.open_stream() as stream:
        for pt in stream:
            stream.send(Point(x=pt["x"] * 2, y=pt["y"] * 2))


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.start_actor("point_doubler", enable_modules=[__name__])
        with tractor.fail_after(30):
            with portal.open_context(point_doubler, pld_spec=Point | None) as (ctx, first):
                assert first == Point(x=0, y=0)
                with ctx.open_stream() as stream:
                    for i in range(3):
                        stream.send(Point(x=i, y=i))
                        doubled = stream.receive()
                        assert doubled == Point(x=i * 2, y=i * 2)
                        print(f"parent: rx {doubled}")
            try:
                with portal.open_context(point_doubler) as (ctx, first):
                    with ctx.open_stream() as stream:
                        stream.send({"x": "one", "y": 1})   # not a Point
                        stream.receive()
            except tractor.MsgTypeError as e:
                print(f"parent: the child refused a bad Point: {e.message}")
            else:
                raise SystemExit("the bad Point went through")
        portal.cancel_actor()


if __name__ == "__main__":
    main()
