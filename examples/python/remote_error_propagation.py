"""An error raised in a child actor propagates to the parent, boxed as a
RemoteActorError that keeps the original type name and traceback; the
nursery cancels the remaining children.

Port of tractor's examples/remote_error_propagation.py.

Run: PYTHONPATH=build/bindings/python python3 examples/python/remote_error_propagation.py
"""
import libtractor as tractor


def assert_err() -> None:
    """Runs in a child: fails."""
    assert 0, "a remote assertion"


def main() -> None:
    try:
        with tractor.open_nursery() as an:
            # a daemon that would run forever: the failure cancels it
            an.start_actor("bystander", enable_modules=[__name__])
            an.run_in_actor(assert_err, name="errorer")
    except tractor.RemoteActorError as err:
        print(f"caught {err.boxed_type_str} from {err.src_uid[0]}: {err.message}")
        print("remote traceback:")
        print(err.tb_str)
        assert err.boxed_type is AssertionError
        assert isinstance(err, AssertionError)
        assert "assert 0" in err.tb_str
    else:
        raise SystemExit("the error did not propagate")


if __name__ == "__main__":
    main()
