--- tractor.sched: errors, the coroutine scheduler, cancel scopes and task
-- groups — the parts of the Lua binding that everything else waits with.
-- Internal: use it through `require "tractor"`.
--
-- Tasks are coroutines on the main thread. Everything that waits is a poll
-- (libtractor called with timeout 0): inside a task a poll that is not
-- ready yields to the scheduler; outside a task (the main chunk, or a user
-- coroutine) the waiter runs scheduler rounds itself. A round resumes every
-- suspended task, then sleeps on the runtime fd and the helper-thread waker.
local C = require "tractor_c"

local E = C.E
local pack, unpack = table.pack, table.unpack
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_status = coroutine.running, coroutine.status
local now = C.monotonic

local M = {}  -- public: copied into the tractor module
local I = {}  -- internal: for tractor.lua

------------------------------------------------------------------------------
-- Errors: tables with type, message, src_uid, relay_path, tb_str, canceller...

local Error = {__name = "tractor.Error"}
Error.__index = Error
M.Error = Error

local function uid_str(u)
  return u and ("'%s'"):format(u.name) or "?"
end

function Error.__tostring(e)
  local head = ("%s: %s"):format(e.type or "TractorError", tostring(e.message or ""))
  if e.src_type and e.type ~= e.src_type then
    head = ("%s(%s): %s"):format(e.type, e.src_type, tostring(e.message or ""))
  end
  local extra = {}
  if e.src_uid then
    local path = {}
    for i, u in ipairs(e.relay_path or {}) do path[i] = uid_str(u) end
    extra[#extra + 1] = ("from actor %s%s"):format(uid_str(e.src_uid),
      #path > 1 and (" via " .. table.concat(path, " -> ")) or "")
  end
  if e.canceller then extra[#extra + 1] = "cancelled by " .. uid_str(e.canceller) end
  if #extra > 0 then head = head .. " [" .. table.concat(extra, ", ") .. "]" end
  if e.errors then
    for i, sub in ipairs(e.errors) do
      head = head .. ("\n  (%d) %s"):format(i, tostring(sub):gsub("\n", "\n      "))
    end
  end
  local tb = e.tb_str and e.tb_str:gsub("%s+$", "")
  if tb and tb ~= "" then
    head = head .. "\n  remote traceback:\n    " .. tb:gsub("\n", "\n    ")
  end
  return head
end

-- type names for failures that have no remote error attached
local LOCAL_TYPES = {
  [E.ETIMEDOUT] = "TimeoutError", [E.ECANCELLED] = "Cancelled",
  [E.ETRANSPORT] = "TransportClosed", [E.EEOC] = "EndOfChannel",
  [E.ECLOSED] = "ClosedResourceError", [E.EMSGTYPE] = "MsgTypeError",
  [E.EOVERRUN] = "StreamOverrun", [E.ESPAWN] = "ActorFailedToStart",
  [E.EINVAL] = "ValueError", [E.ESTATE] = "RuntimeError", [E.ESELF] = "RuntimeError",
  [E.ENOTFOUND] = "LookupError", [E.EREMOTE] = "RemoteActorError",
  [E.ECTXCANCELLED] = "ContextCancelled", [E.EADDR] = "ValueError",
  [E.EPROTO] = "ProtocolError", [E.ENOMEM] = "MemoryError", [E.EIO] = "OSError",
}

--- Build an Error from a status code and the optional table libtractor gave.
local S -- the scheduler state, below

function M.error_from(rc, t, where)
  if type(t) ~= "table" then
    local text = C.strerror(rc)
    if rc == E.ECANCELLED and S.rt then
      local yes, why = C.rt_cancelled(S.rt)
      if yes then text = ("the actor was cancelled (%s)"):format(why or "?") end
    end
    t = {
      type = LOCAL_TYPES[rc] or "TractorError",
      message = (where and (where .. ": ") or "") .. text,
      rc = rc, code = C.err_name(rc), relay_path = {}, tb_str = "",
    }
  elseif where and not t.where then
    t.where = where
  end
  return setmetatable(t, Error)
end

local function raise(rc, t, where)
  error(M.error_from(rc, t, where), 0)
end

--- true when `e` is a tractor error (of type `etype`, when given).
function M.is_error(e, etype)
  return getmetatable(e) == Error and (etype == nil or e.type == etype)
end

local function cancelled(message, scope)
  return setmetatable({type = "Cancelled", message = message, rc = E.ECANCELLED,
    code = "TR_ECANCELLED", relay_path = {}, tb_str = "", _scope = scope}, Error)
end

------------------------------------------------------------------------------
-- Scheduler: tasks are coroutines; everything that waits is a poll.

S = {
  rt = nil,           -- the runtime userdata
  uuid = nil,
  tasks = {},         -- live tasks, in spawn order (compacted lazily)
  by_co = setmetatable({}, {__mode = "k"}),
  current = nil,      -- the task being resumed
  again = false,      -- a task asked to run again at once
  gen = 0,            -- bumped by every fd clear (nested steps)
  funcs = {},         -- ns -> module table of served functions
}
local MAIN = {scopes = {}}  -- the main thread as a pseudo-task
M._S = S

local Task = {}
Task.__index = Task

local function current()
  local co, ismain = co_running()
  if ismain then return MAIN, false end
  local t = S.by_co[co]
  if t then return t, true end
  return S.current or MAIN, false  -- a user coroutine inside a task
end

local function check_cancel(task)
  for _, sc in ipairs(task.scopes) do
    if sc.cancelled then error(cancelled(sc.reason or "cancelled", sc), 0) end
    if sc.deadline and now() >= sc.deadline then
      error(cancelled("deadline exceeded", sc), 0)
    end
  end
  local c = task.ctx
  if c and C.ctx_cancel_called(c) then
    local _, _, _, cname = C.ctx_state(c)
    error(cancelled("this task was cancelled" .. (cname and (" by '" .. cname .. "'") or "")), 0)
  end
end

local function nearest_deadline(task, extra)
  local d = extra
  for _, sc in ipairs(task.scopes) do
    if sc.deadline and (not d or sc.deadline < d) then d = sc.deadline end
  end
  return d
end

local function resume(t)
  local prev = S.current
  S.current = t
  local ok, err = co_resume(t.co, t)
  S.current = prev
  if co_status(t.co) == "dead" then
    t.done = true
    if not ok then t.err = err; t.failed = true end
    if t.on_done then
      t.on_done(t)
    elseif not ok then
      C.log(S.rt, 40, "lua", "a task failed outside any handler: " .. tostring(err))
    end
    S.again = true
  end
end

--- Run one round: resume every suspended task, then wait (at most until
-- `until_t`) for the runtime fd or a helper thread, then clear them.
function S.step(until_t)
  local rt = S.rt
  if rt and S.serving then
    while true do
      local rc, c = C.rt_next_task(rt)
      if rc ~= 0 then break end
      S.spawn_served(c)
    end
  end
  local gen = S.gen
  S.again = false
  local list, n = S.tasks, #S.tasks
  for i = 1, n do
    local t = list[i]
    if t and not t.done and co_status(t.co) == "suspended" then
      resume(t)
    end
  end
  -- compact
  local live = {}
  for _, t in ipairs(S.tasks) do if not t.done then live[#live + 1] = t end end
  S.tasks = live
  if S.again or gen ~= S.gen then return end
  local timeout, t0 = 250, now()
  local d = until_t
  for _, t in ipairs(live) do
    if t.wake_at and (not d or t.wake_at < d) then d = t.wake_at end
  end
  if d then timeout = math.max(0, math.min(timeout, math.ceil((d - t0) * 1000))) end
  if rt and S.rt == rt then C.wait(rt, timeout) else C.wait(nil, timeout) end
  if S.rt then C.clear(S.rt) else C.clear(nil) end
  S.gen = S.gen + 1
end

--- Wait for `poll` (returning TR_EAGAIN while not ready) and return its
-- results. `shield` ignores cancellation and deadlines (cleanup paths);
-- `wake_at` is a time at which the poll may become ready by itself.
local function await(poll, shield, wake_at)
  local task, can_yield = current()
  while true do
    if not shield then check_cancel(task) end
    local r = pack(poll())
    if r[1] ~= E.EAGAIN then return unpack(r, 1, r.n) end
    local d = shield and wake_at or nearest_deadline(task, wake_at)
    if can_yield then
      task.wake_at = d
      co_yield()
      task.wake_at = nil
    else
      S.step(d)
    end
  end
end
M._await = await

-- await with a time limit (shielded: for cleanup paths); TR_ETIMEDOUT after
-- `secs`.
local function await_for(poll, secs)
  local dl = now() + secs
  return await(function()
    local r = pack(poll())
    if r[1] == E.EAGAIN and now() >= dl then return E.ETIMEDOUT end
    return unpack(r, 1, r.n)
  end, true, dl)
end

local function await_job(job, shield)
  if type(job) == "number" then return job end
  return await(function() return C.job_poll(job) end, shield)
end

-- Release a caller-side context: at once when its outcome is known, else
-- cancel the callee first (on a helper thread: that waits for the ack).
local function close_ctx(c)
  local has = C.ctx_state(c)
  return await_job(C.ctx_close(not has, c, not has), true)
end

local function new_task(fn, scopes, ctx, ...)
  local args = pack(...)
  local t = setmetatable({scopes = scopes or {}, ctx = ctx}, Task)
  t.co = co_create(function() return fn(unpack(args, 1, args.n)) end)
  S.by_co[t.co] = t
  S.tasks[#S.tasks + 1] = t
  S.again = true
  return t
end

--- Yield to the scheduler once (lets other tasks run).
function M.checkpoint()
  local task, can_yield = current()
  check_cancel(task)
  if can_yield then S.again = true; co_yield() else S.step(now()) end
end

--- Sleep `secs` seconds without blocking other tasks.
function M.sleep(secs)
  local t = now() + (secs or 0)
  await(function() if now() >= t then return 0 end return E.EAGAIN end, false, t)
end

-- Cancel scopes: deadlines and task-group cancellation.
local function with_scope(sc, fn, ...)
  local task = current()
  local scopes = task.scopes
  scopes[#scopes + 1] = sc
  local r = pack(pcall(fn, ...))
  for i = #scopes, 1, -1 do if scopes[i] == sc then table.remove(scopes, i) break end end
  return r
end

--- Run fn(...); if it is still running after `secs`, cancel it and raise a
-- TimeoutError.
function M.fail_after(secs, fn, ...)
  local sc = {deadline = now() + secs}
  local r = with_scope(sc, fn, ...)
  if r[1] then return unpack(r, 2, r.n) end
  local e = r[2]
  if M.is_error(e, "Cancelled") and e._scope == sc then
    raise(E.ETIMEDOUT, {type = "TimeoutError", rc = E.ETIMEDOUT, code = "TR_ETIMEDOUT",
      message = ("timed out after %g s"):format(secs), relay_path = {}, tb_str = ""})
  end
  error(e, 0)
end

--- Run fn(...); if it is still running after `secs`, cancel it and return
-- nil, true (timed out). Otherwise return fn's results.
function M.move_on_after(secs, fn, ...)
  local sc = {deadline = now() + secs}
  local r = with_scope(sc, fn, ...)
  if r[1] then return unpack(r, 2, r.n) end
  if M.is_error(r[2], "Cancelled") and r[2]._scope == sc then return nil, true end
  error(r[2], 0)
end

------------------------------------------------------------------------------
-- Task groups: structured local concurrency (trio's nursery, for coroutines).

local TaskGroup = {}
TaskGroup.__index = TaskGroup

--- tractor.open_task_group(function(tg) tg:spawn(f, ...) end): waits for
-- every spawned task; the first error cancels the others and is raised.
function M.open_task_group(fn)
  local parent = current()
  local tg = setmetatable({scope = {}, tasks = {}, errors = {}}, TaskGroup)
  tg.parent_scopes = parent.scopes
  tg.parent_ctx = parent.ctx
  local r = with_scope(tg.scope, fn, tg)
  if not r[1] and not (M.is_error(r[2], "Cancelled") and r[2]._scope == tg.scope) then
    table.insert(tg.errors, 1, r[2])
    tg:cancel("the task group's body failed")
  end
  -- wait for the children (shielded: they were cancelled if need be)
  await(function()
    for _, t in ipairs(tg.tasks) do if not t.done then return E.EAGAIN end end
    return 0
  end, true)
  if tg.errors[1] ~= nil then error(tg.errors[1], 0) end
  if r[1] then return unpack(r, 2, r.n) end
end

function TaskGroup:spawn(fn, ...)
  local scopes = {}
  for i, sc in ipairs(self.parent_scopes) do scopes[i] = sc end
  local t = new_task(fn, scopes, self.parent_ctx, ...)
  self.tasks[#self.tasks + 1] = t
  t.on_done = function(task)
    if task.failed and not (M.is_error(task.err, "Cancelled") and task.err._scope == self.scope) then
      self.errors[#self.errors + 1] = task.err
      self:cancel("a sibling task failed")
    end
  end
  return t
end

function TaskGroup:cancel(reason)
  self.scope.cancelled = true
  self.scope.reason = reason or "task group cancelled"
end

I.raise, I.cancelled, I.S, I.current, I.await, I.await_for = raise, cancelled, S, current, await, await_for
I.await_job, I.close_ctx, I.new_task = await_job, close_ctx, new_task

return {public = M, internal = I}
