-- tractor_child.lua: the host program for Lua child actors.
--
--   lua5.4 tractor_child.lua --uid "('name', 'uuid')" \
--       --parent_addr "('127.0.0.1', 1234)" [--loglevel LEVEL]
--
-- Started by a parent's nursery for children with lang = "lua". Connects
-- back to the parent, receives the SpawnSpec, `require`s every module in
-- enable_modules and serves its functions until cancelled, then exits 0
-- (1 when a module cannot be loaded: the parent gets the boot error).
--
-- Module search path: $TRACTOR_LUA_PATH (';'-separated directories or
-- templates with '?'), then LUA_PATH (package.path), then the directory of
-- this script (where tractor.lua lives in the build tree).
-- C modules: LUA_CPATH, then this script's directory (tractor_c.so).

if arg[1] == "--help" or arg[1] == "-h" then
  print("usage: lua5.4 tractor_child.lua --uid \"('name', 'uuid')\" " ..
    "--parent_addr \"('host', port)\" [--loglevel LEVEL]")
  print("Runs a libtractor Lua child actor (started by a parent's nursery).")
  print("Modules are found on $TRACTOR_LUA_PATH, then LUA_PATH.")
  os.exit(0)
end

local script_dir = (arg[0] or ""):match("^(.*)/[^/]*$") or "."

local function add_templates(list)
  local out = {}
  for item in list:gmatch("[^;]+") do
    if item:find("?", 1, true) then
      out[#out + 1] = item
    else
      out[#out + 1] = item .. "/?.lua"
      out[#out + 1] = item .. "/?/init.lua"
    end
  end
  return table.concat(out, ";")
end

local extra = os.getenv("TRACTOR_LUA_PATH")
if extra and extra ~= "" then
  package.path = add_templates(extra) .. ";" .. package.path
end
package.path = package.path .. ";" .. script_dir .. "/?.lua"
package.cpath = package.cpath .. ";" .. script_dir .. "/?.so"
-- an installed copy knows where tractor.lua and tractor_c.so were installed
local installed_lua, installed_cmod = "@TR_LUA_LUADIR@", "@TR_LUA_CMODDIR@"
if not installed_lua:find("^@") then
  package.path = package.path .. ";" .. installed_lua .. "/?.lua"
  package.cpath = package.cpath .. ";" .. installed_cmod .. "/?.so"
end

local tractor = require "tractor"

-- libtractor parses the command line itself (argv[0] first).
local argv = {arg[0] or "tractor_child.lua"}
for i = 1, #arg do argv[#argv + 1] = arg[i] end

os.exit(tractor.run_child(argv))
