-- luamod_broken: a module that fails to load (for boot-failure tests).
error("luamod_broken refuses to load")
