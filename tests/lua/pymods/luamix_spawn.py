"""A Python actor that spawns a Lua grandchild (mixed-language trees)."""
import libtractor as tractor


def call_lua_grandchild(x, y):
    with tractor.open_nursery() as an:
        p = an.start_actor("luagrand", enable_modules=["luamod"], lang="lua")
        try:
            return p.run_from_ns("luamod", "add", x=x, y=y)
        finally:
            p.cancel_actor()
