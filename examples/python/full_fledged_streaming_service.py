"""A fan-in streaming service: an aggregator actor spawns two streamers,
reads both of their streams at once (one thread each) and streams the unique
values on to the root.

Port of tractor's examples/full_fledged_streaming_service.py (there the
aggregator merges with trio tasks; here the synchronous API and threads).

Run: PYTHONPATH=build/bindings/python python3 examples/python/full_fledged_streaming_service.py
"""
import queue
import threading
import time

import libtractor as tractor


@tractor.context
def stream_data(ctx: tractor.Context, seed: int) -> int:
    """Runs in each streamer: streams 0..seed-1."""
    ctx.started()
    with ctx.open_stream() as stream:
        for i in range(seed):
            stream.send(i)
    return seed


@tractor.context
def aggregate(ctx: tractor.Context, seed: int) -> int:
    """Runs in the aggregator: spawn two streamers, merge their streams,
    pass each value on once."""
    with tractor.open_nursery() as an:
        portals = [an.start_actor(f"streamer_{i}", enable_modules=[__name__]) for i in (1, 2)]
        merged: queue.Queue = queue.Queue()

        def push(portal: tractor.Portal) -> None:
            # let values queue (no StreamOverrun) while we pass them on
            with portal.open_context(stream_data, seed=seed, allow_overruns=True) as (sctx, _):
                with sctx.open_stream() as stream:
                    for value in stream:
                        merged.put(value)
            merged.put(None)  # this streamer is done
            print(f"FINISHED ITERATING {portal.name}")

        threads = [threading.Thread(target=push, args=(p,)) for p in portals]
        for t in threads:
            t.start()
        ctx.started()
        unique = set()
        with ctx.open_stream() as out:
            done = 0
            while done < len(threads):
                value = merged.get()
                if value is None:
                    done += 1
                elif value not in unique:
                    unique.add(value)
                    out.send(value)
        for t in threads:
            t.join()
        print("FINISHED ITERATING in aggregator")
        for p in portals:
            p.cancel_actor()
    return len(unique)


def main() -> list[int]:
    seed = 1000
    with tractor.open_nursery() as an:
        pre_start = time.time()
        portal = an.start_actor("aggregator", enable_modules=[__name__])
        with tractor.fail_after(60):
            with portal.open_context(aggregate, seed=seed, allow_overruns=True) as (ctx, _):
                start = time.time()
                with ctx.open_stream() as stream:
                    result = list(stream)
            assert ctx.outcome == seed
        assert portal.cancel_actor()
        print(f"STREAM TIME = {time.time() - start:.3f} s\n"
              f"STREAM + SPAWN TIME = {time.time() - pre_start:.3f} s")
    assert sorted(result) == list(range(seed))
    return result


if __name__ == "__main__":
    main()
