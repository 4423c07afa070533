-- Served by typed_payloads.lua: a context limited to {x:int,y:int}|nil.
local tractor = require "tractor"
local M = {}

M.point_doubler = tractor.context(function(ctx)
  -- a started() value that breaks the spec is refused before sending
  local ok, e = pcall(ctx.started, ctx, "this is no Point..")
  assert(not ok and tractor.is_error(e, "MsgTypeError"))
  print("child: just as planned, a string failed the {x:int,y:int}|nil spec")
  ctx:started({x = 0, y = 0})
  ctx:open_stream(function(stream)
    for pt in stream:iter() do stream:send({x = pt.x * 2, y = pt.y * 2}) end
  end)
end, {pld_spec = "{x:int,y:int}|nil"})

return M
