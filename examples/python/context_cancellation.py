"""Cancelling a linked remote task from the caller, and a callee that
cancels itself: the first is absorbed (and reported), the second raised.

Run: PYTHONPATH=build/bindings/python python3 examples/python/context_cancellation.py
"""
import libtractor as tractor


@tractor.context
def stream_forever(ctx: tractor.Context) -> None:
    ctx.started("streaming")
    with ctx.open_stream() as stream:
        i = 0
        while True:
            stream.send(i)
            i += 1
            tractor.sleep(0.01)  # a cancellation point


@tractor.context
def give_up(ctx: tractor.Context) -> None:
    ctx.started()
    ctx.cancel("nothing more to do")
    tractor.sleep(10)


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.start_actor("streamer", enable_modules=[__name__])
        with tractor.fail_after(30):
            with portal.open_context(stream_forever) as (ctx, first):
                with ctx.open_stream() as stream:
                    got = [stream.receive() for _ in range(5)]
                    ctx.cancel()  # we asked: absorbed when the block ends
            print("received", got, "then cancelled:", type(ctx.outcome).__name__)
            assert ctx.outcome.canceller == tractor.current_actor().uid

            try:
                with portal.open_context(give_up) as (ctx, _):
                    ctx.wait_for_result()
            except tractor.ContextCancelled as e:  # the callee asked: raised
                print("callee cancelled itself:", e.canceller[0], "-", e.message)
        portal.cancel_actor()


if __name__ == "__main__":
    main()
