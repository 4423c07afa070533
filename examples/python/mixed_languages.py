"""One tree, two languages: a Python root calls a C child actor (the
`testmod` module of the integration tests, found on $TRACTOR_MODULE_PATH).

Run: TRACTOR_MODULE_PATH=build/modules PYTHONPATH=build/bindings/python \
     python3 examples/python/mixed_languages.py
"""
import os

import libtractor as tractor


def main() -> None:
    if not os.environ.get("TRACTOR_MODULE_PATH"):
        print("set TRACTOR_MODULE_PATH to the directory holding libtestmod.so")
        return
    with tractor.open_nursery() as an:
        c_child = an.start_actor("c-worker", lang="c", enable_modules=["testmod"])
        with tractor.fail_after(30):
            print("C says 40 + 2 =", c_child.run_from_ns("testmod", "add", x=40, y=2))
            with c_child.open_context("testmod", "echo") as (ctx, first):
                with ctx.open_stream() as stream:
                    stream.send({"from": "python", "n": [1, 2, 3]})
                    print("C echoed", stream.receive())
            try:
                c_child.run_from_ns("testmod", "fail")
            except ValueError as e:  # a RemoteActorError boxing the C error
                print("C failed as expected:", e.message)
        c_child.cancel_actor()


if __name__ == "__main__":
    main()
