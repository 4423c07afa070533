-- Typed payloads: a context limited to a payload spec ({x:int,y:int}|nil).
-- A started() value that does not match raises MsgTypeError in the sender
-- before anything is sent; stream values are checked where they are
-- received, and a bad one fails the context with a MsgTypeError.
--
-- Port of tractor's examples/typed_payloads.py.
--   lua5.4 examples/lua/typed_payloads.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

local SPEC = "{x:int,y:int}|nil"
tractor.open_nursery(function(an)
  local portal = an:start_actor("point_doubler", {enable_modules = {"points"}})
  portal:open_context("points", "point_doubler", {}, {pld_spec = SPEC}, function(ctx, first)
    assert(first.x == 0 and first.y == 0)
    ctx:open_stream(function(stream)
      for i = 0, 2 do
        stream:send({x = i, y = i})
        local d = stream:receive()
        assert(d.x == 2 * i and d.y == 2 * i)
        print(("parent: rx {x = %d, y = %d}"):format(d.x, d.y))
      end
    end)
  end)
  local ok, e = pcall(portal.open_context, portal, "points", "point_doubler", {}, function(ctx)
    ctx:open_stream(function(stream)
      stream:send({x = "one", y = 1})   -- not a Point
      stream:receive()
    end)
  end)
  assert(not ok and tractor.is_error(e, "MsgTypeError"), tostring(e))
  print("parent: the child refused a bad Point: " .. e.message)
  portal:cancel_actor()
end)
