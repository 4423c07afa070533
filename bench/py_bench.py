"""Python binding figures for run-bench: one-way receive and send of ints
and the round trip over a context stream, through `libtractor` (the Python
binding), against a C child serving bench/benchmod.c.

    PYTHONPATH=build/bindings/python TRACTOR_MODULE_PATH=build/bench/modules \
        python3 bench/py_bench.py uds

Prints "R <key> <value>" lines for run-bench.
"""
import sys
import time

import libtractor as tractor


def result(key, value):
    print(f"R {key} {value:.6g}", flush=True)


def main():
    tpt = sys.argv[1] if len(sys.argv) > 1 else "uds"
    n_msgs = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
    with tractor.open_nursery(name="pybench", transport=tpt, handle_signals=False,
                              enable_registrar=False) as an:
        p = an.start_actor("csrc", enable_modules=["bench"], lang="c")

        # one-way, C child -> Python: receive n_msgs ints
        t0 = time.perf_counter()
        got = bad = 0
        with p.open_context("bench", "source", allow_overruns=True, count=n_msgs,
                            size=8) as (ctx, _first):
            with ctx.open_stream() as s:
                for v in s:
                    if v != got:
                        bad += 1
                    got += 1
        t1 = time.perf_counter()
        if got != n_msgs or bad:
            sys.exit(f"py_bench: received {got}/{n_msgs}, {bad} out of order")
        result("py.stream.recv.msgs_per_s", n_msgs / (t1 - t0))

        # one-way, Python -> C child: send n_msgs ints (until the sink has
        # counted them all)
        t0 = time.perf_counter()
        with p.open_context("bench", "sink") as (ctx, _first):
            with ctx.open_stream() as s:
                send = s.send
                for i in range(n_msgs):
                    send(i)
        t1 = time.perf_counter()
        count, nbad, _t_last = ctx.outcome
        if count != n_msgs or nbad:
            sys.exit(f"py_bench: the sink counted {count}/{n_msgs}, {nbad} out of order")
        result("py.stream.send.msgs_per_s", n_msgs / (t1 - t0))

        # round trip
        iters, warm = 10_000, 1_000
        lat = []
        with p.open_context("bench", "echo") as (ctx, _first):
            with ctx.open_stream() as s:
                clock = time.perf_counter_ns
                for i in range(warm + iters):
                    a = clock()
                    s.send(i)
                    v = s.receive()
                    b = clock()
                    if v != i:
                        sys.exit("py_bench: wrong echo")
                    if i >= warm:
                        lat.append(b - a)
        lat.sort()
        result("py.rtt.p50_us", lat[len(lat) // 2] / 1e3)
        result("py.rtt.p99_us", lat[int(len(lat) * 0.99)] / 1e3)
        p.cancel_actor()


if __name__ == "__main__":
    main()
