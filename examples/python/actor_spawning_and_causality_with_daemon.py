"""A daemon actor: start_actor() spawns a child that serves until it is
cancelled; we call it as often as we like, then cancel_actor() ends it.

Port of tractor's examples/actor_spawning_and_causality_with_daemon.py.

Run: PYTHONPATH=build/bindings/python python3 examples/python/actor_spawning_and_causality_with_daemon.py
"""
import libtractor as tractor


def movie_theatre_question() -> str:
    """Runs in the daemon."""
    return "in your mind's eye"


def cellar_door(msg: str) -> str:
    return f"{msg}, said {tractor.current_actor().name}"


def main() -> None:
    with tractor.open_nursery() as an:
        portal = an.start_actor("frank", enable_modules=[__name__])
        # the daemon keeps serving: call it several times
        print(portal.run(movie_theatre_question))
        print(portal.run(cellar_door, msg="beautiful"))
        assert portal.run(movie_theatre_question) == "in your mind's eye"
        # daemons live until cancelled; the nursery would wait for it otherwise
        acked = portal.cancel_actor()
        print("frank acknowledged the cancel:", acked)
        assert acked


if __name__ == "__main__":
    main()
