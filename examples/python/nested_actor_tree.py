"""A three-level tree: one call from the root fans out through a
'supervisor' actor to two 'leaf' actors it spawns, and the aggregate comes
back up. Teardown runs inside out: the supervisor cancels its leaves, then
the root cancels the supervisor.

Port of tractor's examples/nested_actor_tree.py.

Run: PYTHONPATH=build/bindings/python python3 examples/python/nested_actor_tree.py
"""
import threading

import libtractor as tractor


def compute_square(x: int) -> int:
    """A tiny unit of work, run in a leaf."""
    print(f"{tractor.current_actor().name}: squaring {x}")
    return x * x


@tractor.context
def fan_out_squares(ctx: tractor.Context, vals: list) -> list:
    """Runs in the supervisor: spawn two leaves, send each value to one of
    them (concurrently, a thread per call), return the squares."""
    with tractor.open_nursery() as an:
        portals = [an.start_actor(f"leaf_{i}", enable_modules=[__name__]) for i in (1, 2)]
        ctx.started([p.name for p in portals])
        squares: dict = {}

        def run_in_leaf(portal: tractor.Portal, x: int) -> None:
            squares[x] = portal.run(compute_square, x=x)

        threads = [threading.Thread(target=run_in_leaf, args=(portals[i % 2], x))
                   for i, x in enumerate(vals)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for portal in portals:  # inside-out: the leaves go first
            print(f"supervisor: cancelling {portal.name}")
            portal.cancel_actor()
    return [squares[x] for x in vals]


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.start_actor("supervisor", enable_modules=[__name__])
        with tractor.fail_after(60):
            with portal.open_context(fan_out_squares, vals=[1, 2, 3, 4]) as (ctx, leaf_names):
                print(f"root: supervisor spawned {leaf_names}")
                squares = ctx.wait_for_result()
                assert squares == [1, 4, 9, 16]
                print(f"root: aggregate result {squares}")
        print("root: cancelling supervisor")
        portal.cancel_actor()
    print("root: tree torn down, no zombies")


if __name__ == "__main__":
    main()
