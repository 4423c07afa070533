"""A context with a bidirectional stream: the parent sends values, the child
streams back their squares, and returns how many it handled.

Port of the spirit of tractor's examples/rpc_bidir_streaming.py.

Run: PYTHONPATH=build/bindings/python python3 examples/python/rpc_bidir_streaming.py
"""
import libtractor as tractor


@tractor.context
def simple_rpc(ctx: tractor.Context, data: int) -> int:
    """Runs in the child: started() hands `data` back first, then every value
    received is answered with its square."""
    ctx.started(data + 1)
    count = 0
    with ctx.open_stream() as stream:
        for value in stream:
            stream.send(value * value)
            count += 1
    return count


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.start_actor("rpc_server", enable_modules=[__name__])
        with tractor.fail_after(30):
            with portal.open_context(simple_rpc, data=10) as (ctx, first):
                assert first == 11
                with ctx.open_stream() as stream:
                    for i in range(5):
                        stream.send(i)
                        print(f"{i}^2 = {stream.receive()}")
            # leaving the blocks closed the stream and collected the result
            assert ctx.outcome == 5
            print(f"the server handled {ctx.outcome} values")
        portal.cancel_actor()


if __name__ == "__main__":
    main()
