"""Spawn an actor, run a function in it, get the result back.

The port of tractor's examples/actor_spawning_and_causality.py: the nursery
block does not end before the child has returned, and the child is cancelled
once its one job is done.

Run: PYTHONPATH=build/bindings/python python3 examples/python/actor_spawning_and_causality.py
"""
import libtractor as tractor


def cellar_door(msg: str) -> str:
    """Runs in the child actor."""
    me = tractor.current_actor()
    return f"{msg} (from {me.name}, a child: {not tractor.is_root_process()})"


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.run_in_actor(cellar_door, name="some_linguist", msg="beautiful")
        # The nursery waits for the child's result before the block ends;
        # asking for it explicitly is also fine:
        result = portal.wait_for_result()
    print(result)
    assert result.startswith("beautiful (from some_linguist, a child: True)")


if __name__ == "__main__":
    main()
