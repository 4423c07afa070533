-- calc: plain functions served by a Lua child actor. Each takes its
-- keyword arguments as one table and returns one value.
local M = {}

function M.add(kw) return kw.x + kw.y end

function M.fib(kw)
  local a, b = 0, 1
  for _ = 1, kw.n do a, b = b, a + b end
  return a
end

function M.divide(kw)
  if kw.y == 0 then
    -- a table error keeps its type at the caller
    error({type = "ZeroDivisionError", message = ("cannot divide %d by zero"):format(kw.x)})
  end
  return kw.x / kw.y
end

function M.explode(kw)
  error("explode() was called with reason: " .. tostring(kw.reason))
end

return M
