"""Served by real Python tractor children (lang="tractor") in the interop
tests (tests/python/test_tractor_interop.py, tests/lua/test_tractor.lua, the
"Python tractor child" case of tests/integration/test_matrix.cpp). Written
against tractor's own API: it is imported by Python >= 3.13 with tractor
installed, never by libtractor."""
import tractor
import trio


async def add(x: int, y: int) -> int:
    return x + y


async def fail(msg: str) -> None:
    raise ValueError(msg)


@tractor.context
async def echo(ctx: tractor.Context, first: str = "ready") -> int:
    await ctx.started(first)
    n = 0
    async with ctx.open_stream() as stream:
        async for msg in stream:
            await stream.send(msg)
            n += 1
    return n


@tractor.context
async def wait_in_stream(ctx: tractor.Context) -> None:
    await ctx.started()
    async with ctx.open_stream() as stream:
        async for _ in stream:
            pass


@tractor.context
async def self_cancel(ctx: tractor.Context) -> None:
    await ctx.started()
    await ctx.cancel()
    await trio.sleep_forever()
