"""demo_transform: the Python module of `make demo` (served by the
'transformer' actor, a libtractor Python child of the C root).

It finds its peers through the registrar, pulls words from the Lua
'producer', transforms them, pushes their lengths through the C
'aggregator', and reports every hop to the root over its own stream.
"""
import libtractor as tractor


@tractor.context
def pipeline(ctx, producer: str, aggregator: str) -> dict:
    """Lua -> Python -> C, each hop a context with a bidirectional stream;
    the caller (the root) gets one report per word and, as the result, what
    the producer and the aggregator returned."""
    with tractor.wait_for_actor(producer, timeout=10) as src_portal, \
            tractor.wait_for_actor(aggregator, timeout=10) as dst_portal:
        with src_portal.open_context("demo_producer", "produce") as (src_ctx, src_first), \
                dst_portal.open_context("demo_worker", "aggregate") as (dst_ctx, dst_first):
            ctx.started([src_first, dst_first])
            with src_ctx.open_stream() as src, dst_ctx.open_stream() as dst, \
                    ctx.open_stream() as report:
                for item in src:                    # {seq, word} from Lua
                    word = item["word"]
                    dst.send(len(word))             # to C ...
                    total = dst.receive()           # ... its running total back
                    src.send("ack")                 # Lua sends the next word
                    report.send({"seq": item["seq"], "word": word, "upper": word.upper(),
                                 "len": len(word), "total": total})
        # leaving the blocks closed the streams and collected both results
        return {"produced": src_ctx.outcome, "aggregated": dst_ctx.outcome}


def double_with_lua(text: str):
    """Spawn a Lua helper (our own child, the root's grandchild) and have it
    double `text`. A word makes the Lua code fail: its error reaches us boxed,
    this nursery cancels the helper, and the error travels on to our caller,
    relayed (our uid appended to its relay path)."""
    with tractor.open_nursery() as an:
        helper = an.start_actor("lua-helper", lang="lua", enable_modules=["demo_producer"])
        return helper.run_from_ns("demo_producer", "double", text=text)


def cancel_peer(name: str) -> bool:
    """Cancel the actor registered as `name` (not one of ours): every
    context it serves ends with a ContextCancelled naming us."""
    with tractor.wait_for_actor(name, timeout=5) as p:
        return p.cancel_actor()
