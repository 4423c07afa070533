"""Python functions served to the Lua suite's mixed-language tests."""
import libtractor as tractor


def add(x, y):
    return x + y


def type_names(**kw):
    """The Python type each keyword argument arrived as."""
    return {k: type(v).__name__ for k, v in kw.items()}


def echo_value(value):
    return value


def make_values():
    return {"i": 7, "f": 7.0, "s": "text", "b": b"\x00\xff", "l": [1, 2], "n": None,
            "big": 2**62, "neg": -5}


def fail(msg="boom"):
    raise ValueError(msg)


@tractor.context
def echo(ctx, first=None):
    ctx.started(first)
    n = 0
    with ctx.open_stream() as stream:
        for msg in stream:
            stream.send(msg)
            n += 1
    return n
