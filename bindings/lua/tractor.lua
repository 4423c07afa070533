--- tractor: multi-process actors for Lua 5.4, over libtractor.
--
--   local tractor = require "tractor"
--   tractor.open_nursery(function(an)
--     local p = an:start_actor("worker", {enable_modules = {"mymod"}})
--     print(p:run_from_ns("mymod", "add", {x = 1, y = 2}))
--     p:cancel_actor()
--   end)
--
-- Everything that waits polls libtractor with timeout 0 and, inside a task,
-- yields to the scheduler below; outside a task (the main chunk) it drives the
-- scheduler itself. Served functions run as coroutines on the main thread.
-- See docs/lua.md.
local C = require "tractor_c"
local K = require "tractor.sched"

local E = C.E
local pack, unpack = table.pack, table.unpack
local now = C.monotonic

local M = {_C = C, E = E, version = C.version()}
for k, v in pairs(K.public) do M[k] = v end

local I = K.internal
local Error, raise, S, current = M.Error, I.raise, I.S, I.current
local await, await_for, await_job, close_ctx, new_task =
  I.await, I.await_for, I.await_job, I.close_ctx, I.new_task

------------------------------------------------------------------------------
-- Streams

local Stream = {}
Stream.__index = Stream

local function new_stream(s, ctx)
  return setmetatable({_s = s, ctx = ctx}, Stream)
end

--- Send one value. Waits only for flow control (while 1 MiB or more is
--- queued on the connection); the peer's buffer policy is never waited on.
function Stream:send(v)
  local rc, err = C.stream_send(self._s, v)
  if rc ~= 0 then raise(rc, err, "stream:send") end
end

--- Receive the next value; raises EndOfChannel once the peer stopped or
-- returned, and the remote error if the context failed.
function Stream:receive()
  local rc, v = await(function() return C.stream_recv(self._s, 0) end)
  if rc ~= 0 then raise(rc, v, "stream:receive") end
  return v
end

--- for msg in stream:iter() do ... end  (ends quietly at end of stream)
function Stream:iter()
  return function()
    local rc, v = await(function() return C.stream_recv(self._s, 0) end)
    if rc == 0 then return v end
    if rc == E.EEOC then return nil end
    raise(rc, v, "stream:receive")
  end
end

--- A broadcast subscriber of this stream (each gets every value).
function Stream:subscribe()
  local rc, sub = C.stream_subscribe(self._s)
  if rc ~= 0 then raise(rc, nil, "stream:subscribe") end
  return new_stream(sub, self.ctx)
end

--- Close our end (sends Stop unless the peer already stopped).
function Stream:close()
  if self.closed then return end
  self.closed = true
  C.stream_close(self._s)
  C.stream_release(self._s)
end
Stream.__close = Stream.close

------------------------------------------------------------------------------
-- Contexts (both sides)

local Context = {}
Context.__index = Context

local function new_context(c, side, portal, first)
  local cid, ns, func, _, peer_name, peer_uuid = C.ctx_info(c)
  return setmetatable({_c = c, side = side, portal = portal, cid = cid, ns = ns, func = func,
    peer = {name = peer_name, uuid = peer_uuid}, first = first, _streams = {}}, Context)
end

--- Callee: send the first value to the caller (exactly once).
function Context:started(v)
  assert(self.side == "callee", "started() is for the callee side")
  local rc, err = C.ctx_started(self._c, v)
  if rc ~= 0 then raise(rc, err, "ctx:started") end
end

--- Open the context's stream: ctx:open_stream([opts,] function(stream) ... end)
-- or `local stream <close> = ctx:open_stream([opts])`. opts: allow_overruns
-- (queue past the buffer instead of answering StreamOverrun),
-- msg_buffer_size.
function Context:open_stream(opts, fn)
  if type(opts) == "function" then opts, fn = nil, opts end
  if opts and (opts.allow_overruns ~= nil or opts.msg_buffer_size) then
    local rc = C.ctx_set_overruns(self._c, opts.allow_overruns, opts.msg_buffer_size)
    if rc ~= 0 then raise(rc, nil, "ctx:open_stream") end
  end
  local rc, s = C.ctx_open_stream(self._c)
  if rc ~= 0 then raise(rc, nil, "ctx:open_stream") end
  local st = new_stream(s, self)
  self._streams[#self._streams + 1] = st
  if not fn then return st end
  local r = pack(pcall(fn, st))
  st:close()
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

--- Cancel the context. Caller: asks the callee to stop (waits for the ack,
-- at most ~0.6 s). Callee: cancels our own task (the caller gets a
-- ContextCancelled naming us).
function Context:cancel(reason)
  local rc = await_job(C.ctx_cancel(self.side == "caller", self._c, reason), true)
  if rc ~= 0 and rc ~= E.ETRANSPORT then raise(rc, nil, "ctx:cancel") end
end

function Context:cancel_called()
  return C.ctx_cancel_called(self._c)
end

--- Caller: wait for the callee's return value. If we cancelled the context
-- ourselves, returns nil plus the ContextCancelled error instead of raising.
function Context:wait_for_result()
  assert(self.side == "caller", "wait_for_result() is for the caller side")
  if self._outcome then
    local o = self._outcome
    if o.rc == 0 then return o.value end
  else
    local rc, v = await(function() return C.ctx_wait_for_result(self._c, 0) end)
    self._outcome = {rc = rc, value = rc == 0 and v or nil, err = rc ~= 0 and v or nil}
    if rc == 0 then return v end
  end
  local o = self._outcome
  local e = M.error_from(o.rc, o.err, "ctx:wait_for_result")
  if self:_own_cancel(e) then return nil, e end
  error(e, 0)
end
Context.result = Context.wait_for_result

function Context:_own_cancel(e)
  return M.is_error(e, "ContextCancelled") and e.canceller ~= nil and e.canceller.uuid == S.uuid
end

-- Caller: leave the context (tractor's open_context __aexit__). On the error
-- path returns the error to raise instead of `err` (the callee's own error
-- when `err` only says that its stream ended), or nil.
function Context:_exit(ok, err)
  if self._closed then return end
  for _, st in ipairs(self._streams) do st:close() end
  local c = self._c
  if not ok then
    local eoc = M.is_error(err, "EndOfChannel")
    if eoc and not self._outcome then
      -- the callee stopped its stream: its outcome follows shortly
      local rc, v = await_for(function() return C.ctx_wait_for_result(c, 0) end, 2)
      if rc ~= E.ETIMEDOUT then self._outcome = {rc = rc, value = v, err = v} end
    end
    self._closed = true
    close_ctx(c) -- cancels the callee unless it already finished
    local o = self._outcome
    if eoc and o and o.rc ~= 0 then
      local e = M.error_from(o.rc, o.err)
      if not self:_own_cancel(e) then return e end
    end
    return nil
  end
  local r = pack(pcall(self.wait_for_result, self))
  self._closed = true
  close_ctx(c)
  if not r[1] then error(r[2], 0) end
end

function Context:__close(err)
  if self.side ~= "caller" then return end
  local e = self:_exit(err == nil, err)
  if e then error(e, 0) end
end

------------------------------------------------------------------------------
-- Portals

local Portal = {}
Portal.__index = Portal

local function new_portal(p)
  local name, uuid, pid = C.portal_info(p)
  return setmetatable({_p = p, name = name, uuid = uuid, pid = pid}, Portal)
end

function Portal:connected()
  return select(4, C.portal_info(self._p))
end

--- Call ns.func(kwargs) in the peer and return its result (raises the
-- remote error as a tractor.Error).
function Portal:run_from_ns(ns, func, kwargs)
  local rc, c = C.portal_start_call(self._p, ns, func, kwargs)
  local where = ("run_from_ns('%s', '%s')"):format(ns, func)
  if rc ~= 0 then raise(rc, c, where) end
  local r = pack(pcall(await, function() return C.ctx_wait_for_result(c, 0) end))
  -- done, or cancelled/timed out while waiting: then abandon the call
  close_ctx(c)
  if not r[1] then error(r[2], 0) end
  if r[2] ~= 0 then raise(r[2], r[3], where) end
  return r[3]
end
Portal.run = Portal.run_from_ns

--- run_in_actor portals: the one result (raises the child's error).
function Portal:wait_for_result()
  local rc, v = await(function() return C.portal_wait_for_result(self._p, 0) end)
  if rc ~= 0 then raise(rc, v, "portal:wait_for_result") end
  return v
end
Portal.result = Portal.wait_for_result

--- Open a context on the peer:
--   portal:open_context(ns, func, kwargs, [opts,] function(ctx, first) ... end)
-- returns the function's results once the context has finished (waiting for
-- the callee's outcome and raising its error); or, without a function,
--   local ctx <close>, first = portal:open_context(ns, func, kwargs, opts)
-- opts: allow_overruns, msg_buffer_size, pld_spec.
function Portal:open_context(ns, func, kwargs, opts, fn)
  if type(opts) == "function" then opts, fn = nil, opts end
  local where = ("open_context('%s', '%s')"):format(ns, func)
  local rc, c = C.portal_start_context(self._p, ns, func, kwargs, opts)
  if rc ~= 0 then raise(rc, c, where) end
  local r = pack(pcall(await, function() return C.ctx_wait_started(c, 0) end))
  if not r[1] or r[2] ~= 0 then
    close_ctx(c)
    if not r[1] then error(r[2], 0) end
    if r[2] == E.EPROTO and r[3] == nil then
      raise(r[2], {type = "MessagingError", rc = r[2], code = C.err_name(r[2]), relay_path = {},
        tb_str = "", message = ("%s: `%s.%s` is not a context endpoint (tractor.context), " ..
          "or it returned without calling ctx:started()"):format(where, ns, func)})
    end
    raise(r[2], r[3], where)
  end
  local ctx = new_context(c, "caller", self, r[3])
  if not fn then return ctx, r[3] end
  local res = pack(pcall(fn, ctx, r[3]))
  if not res[1] then
    local e = res[2]
    e = ctx:_exit(false, e) or e
    if ctx:_own_cancel(e) then return end  -- our own cancel: absorbed
    error(e, 0)
  end
  ctx:_exit(true)
  return unpack(res, 2, res.n)
end

--- Cancel the whole remote actor; true when it acknowledged.
function Portal:cancel_actor(timeout)
  local ms = timeout and math.floor(timeout * 1000) or -1
  local rc = await_job(C.portal_cancel_actor(true, self._p, ms), true)
  return rc == 0
end

function Portal:release()
  C.portal_release(self._p)
end
Portal.__close = Portal.release

------------------------------------------------------------------------------
-- Nurseries

local Nursery = {}
Nursery.__index = Nursery

local function spawn_opts(opts)
  opts = opts or {}
  return {lang = opts.lang or "lua", enable_modules = opts.enable_modules,
    loglevel = opts.loglevel, command = opts.command,
    timeout_ms = opts.timeout and math.floor(opts.timeout * 1000) or nil}
end

--- Spawn a daemon child; returns its Portal.
-- opts: enable_modules (list or comma string), lang ("lua" default, "c",
-- "python", "tractor"), loglevel, command, timeout (seconds).
-- Wait for a spawn job; while it runs it is `pending`, so that closing the
-- nursery waits for spawns abandoned by a cancelled task (libtractor must
-- not close a nursery under a running tr_nursery_start_actor).
function Nursery:_spawned(job, what)
  self.pending[job] = true
  local rc, p, err = await_job(job)
  self.pending[job] = nil
  if rc ~= 0 then raise(rc, err, what) end
  local portal = new_portal(p)
  self.portals[#self.portals + 1] = portal
  return portal
end

function Nursery:start_actor(name, opts)
  if self.closed then error("start_actor: the nursery is closed", 2) end
  return self:_spawned(C.start_actor(true, self._n, name, spawn_opts(opts)),
    ("start_actor('%s')"):format(name))
end

--- Spawn a child that runs ns.func(kwargs) once; collect the result with
-- portal:wait_for_result() (the nursery waits for it on exit anyway).
-- opts as start_actor plus `name` (default: func).
function Nursery:run_in_actor(ns, func, kwargs, opts)
  if self.closed then error("run_in_actor: the nursery is closed", 2) end
  local name = opts and opts.name or func
  local job, err = C.run_in_actor(true, self._n, name, ns, func, kwargs, spawn_opts(opts))
  if type(job) == "number" then raise(job, err, "run_in_actor") end
  return self:_spawned(job, ("run_in_actor('%s')"):format(name))
end

--- Cancel every child (cancel request, then SIGTERM, then SIGKILL).
function Nursery:cancel()
  await_job(C.nursery_cancel(true, self._n), true)
end

function Nursery:child_count()
  return C.nursery_child_count(self._n)
end

function Nursery:_close(block_failed)
  if self.closed then return 0 end
  self.closed = true
  for job in pairs(self.pending) do
    local _, p = await_job(job, true)
    if p then self.portals[#self.portals + 1] = new_portal(p) end
  end
  self.pending = {}
  local rc, err = await_job(C.nursery_close(true, self._n, block_failed), true)
  for _, p in ipairs(self.portals) do p:release() end
  return rc, err
end

function Nursery:__close(err)
  local rc, nerr = self:_close(err ~= nil)
  local implicit = self._implicit_root
  if implicit then M.close_root_actor() end
  if err == nil and rc ~= 0 and rc ~= E.ECANCELLED then raise(rc, nerr, "nursery") end
end

------------------------------------------------------------------------------
-- The actor (runtime) of this process

local context_fns = setmetatable({}, {__mode = "k"})

--- Mark a served function as a context endpoint: fn(ctx, kwargs).
-- opts.pld_spec limits its payloads (e.g. "int", "{name:str}").
function M.context(fn, opts)
  assert(type(fn) == "function", "tractor.context expects a function")
  context_fns[fn] = opts or {}
  return fn
end

--- Serve the functions of module table `tbl` under namespace `ns`.
function M.register_module(ns, tbl)
  assert(S.rt, "no actor runtime is open")
  if type(tbl) ~= "table" then
    error(("module '%s' must return a table of functions (got %s)"):format(ns, type(tbl)), 2)
  end
  S.funcs[ns] = tbl
  for name, f in pairs(tbl) do
    if type(name) == "string" and type(f) == "function" then
      local copts = context_fns[f]
      local rc = C.rt_register(S.rt, ns, name, copts and C.FUNC_CONTEXT or C.FUNC_ASYNCFUNC,
        copts and copts.pld_spec or nil)
      if rc ~= 0 and rc ~= E.EEXIST then raise(rc, nil, ("register %s.%s"):format(ns, name)) end
    end
  end
  S.serving = true
end

-- xpcall handler: keep the error and the Lua traceback of where it was
-- raised, without the scheduler's own frames.
local function keep_tb(e)
  local tb = debug.traceback(nil, 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  return {e = e, tb = cut and tb:sub(1, cut - 1) or tb}
end

local function report_failure(c, w)
  local e = w.e
  if M.is_error(e, "Cancelled") and (C.ctx_cancel_called(c) or (S.rt and C.rt_cancelled(S.rt))) then
    return C.ctx_finish(c, E.ECANCELLED)
  end
  if getmetatable(e) == Error and e._handle and e.src_uid then
    C.ctx_set_remote_error(c, e)  -- relay (RemoteActorError, our uid appended)
    return C.ctx_finish(c, E.EREMOTE)
  end
  local etype, msg = "LuaError", tostring(e)
  if type(e) == "table" then
    etype = e.type and tostring(e.type) or "LuaError"
    msg = e.message ~= nil and tostring(e.message) or msg
  end
  local tb = msg .. "\n" .. (type(w.tb) == "string" and w.tb or "")
  C.ctx_set_error(c, etype, msg, tb)
  return C.ctx_finish(c, E.EINVAL)
end

local function run_served(c, ns, fname, kind)
  local task = current()
  local mod = S.funcs[ns]
  local fn = mod and mod[fname]
  if C.ctx_cancel_called(c) then return C.ctx_finish(c, E.ECANCELLED) end
  if type(fn) ~= "function" then
    C.ctx_set_error(c, "AttributeError", ("module `%s` has no function `%s`"):format(ns, fname))
    return C.ctx_finish(c, E.ENOTFOUND)
  end
  local rc, kwargs = C.ctx_kwargs(c)
  if rc ~= 0 then
    C.ctx_set_error(c, "MsgTypeError", kwargs and kwargs.message or C.strerror(rc))
    return C.ctx_finish(c, rc)
  end
  local ok, res, ctx
  if kind == C.FUNC_CONTEXT then
    ctx = new_context(c, "callee")
    ctx.task = task
    ok, res = xpcall(fn, keep_tb, ctx, kwargs)
    for _, st in ipairs(ctx._streams) do
      if not st.closed then st.closed = true; C.stream_release(st._s) end
    end
  else
    ok, res = xpcall(fn, keep_tb, kwargs)
  end
  if not ok then return report_failure(c, res) end
  local err
  rc, err = C.ctx_set_result(c, res)
  if rc ~= 0 then
    local msg = ("%s.%s returned a value that cannot be sent: %s"):format(ns, fname,
      err and err.message or C.strerror(rc))
    C.ctx_set_error(c, rc == E.EMSGTYPE and "MsgTypeError" or "TypeError", msg, msg)
    return C.ctx_finish(c, rc)
  end
  return C.ctx_finish(c, 0)
end

function S.spawn_served(c)
  local _, ns, fname, kind = C.ctx_info(c)
  new_task(run_served, {}, c, c, ns, fname, kind)
end

local function load_module(name)
  local mod = require(name)
  M.register_module(name, mod)
  return mod
end

--- This actor: {name, uuid, addr, is_child, is_registrar}.
function M.current_actor()
  assert(S.rt, "no actor runtime is open")
  return C.rt_info(S.rt)
end

--- Log through the runtime's logger: tractor.log("info", "hello").
function M.log(level, msg)
  local lvl = type(level) == "number" and level or C.log_level(level)
  if lvl < 0 then lvl = 20 end
  C.log(S.rt, lvl, "lua", tostring(msg))
end

--- Open this process's root actor. opts: name ("root"), transport ("tcp" or
-- "uds"), bind_addr, registry_addrs, enable_registrar (true), loglevel,
-- module_path (C modules), handle_signals (true), enable_modules (Lua
-- modules this actor serves). With `fn`, runs fn(actor_info) and closes.
function M.open_root_actor(opts, fn)
  if type(opts) == "function" then opts, fn = nil, opts end
  if S.rt then error("an actor runtime is already open in this process", 2) end
  opts = opts or {}
  local rc, rt = C.rt_open{name = opts.name or "root", transport = opts.transport,
    bind_addr = opts.bind_addr, registry_addrs = opts.registry_addrs,
    enable_registrar = opts.enable_registrar, loglevel = opts.loglevel,
    module_path = opts.module_path, handle_signals = opts.handle_signals}
  if rc ~= 0 then raise(rc, nil, "open_root_actor") end
  S.rt, S.uuid = rt, C.rt_info(rt).uuid
  for _, name in ipairs(opts.enable_modules or {}) do load_module(name) end
  if not fn then
    return setmetatable(C.rt_info(rt), {__close = function() M.close_root_actor() end})
  end
  local r = pack(xpcall(fn, function(e) return e end, C.rt_info(rt)))
  M.close_root_actor()
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

--- Serve this actor's registered functions until the actor is cancelled
-- (SIGINT/SIGTERM, a remote `cancel_actor`, or tractor.cancel_actor()) and
-- its served tasks have finished. A root otherwise serves only while its
-- main chunk waits in a tractor call.
function M.serve_forever()
  assert(S.rt, "no actor runtime is open")
  local rt = S.rt
  S.serving = true
  await(function()
    if C.rt_wait(rt, 0) == 0 then return 0 end
    return E.EAGAIN
  end, true)
end

--- Cancel this actor (as a remote cancel_actor would): every served task is
-- cancelled and waits in the main chunk raise Cancelled.
function M.cancel_actor()
  assert(S.rt, "no actor runtime is open")
  C.rt_cancel(S.rt)
end

--- Close the actor: cancel served tasks, let them finish (bounded), close.
function M.close_root_actor()
  local rt = S.rt
  if not rt then return end
  C.rt_cancel(rt)
  local deadline = now() + 2
  while (#S.tasks > 0 or C.rt_wait(rt, 0) ~= 0) and now() < deadline do
    S.step(math.min(deadline, now() + 0.05))
  end
  S.rt, S.uuid, S.serving = nil, nil, false
  C.rt_close(rt)
end

--- Open an actor nursery: tractor.open_nursery([opts,] function(an) ... end)
-- or `local an <close> = tractor.open_nursery()`. Opens (and afterwards
-- closes) a root actor with `opts` when none is running. On exit waits for
-- run_in_actor results and for daemon children to be cancelled; a failure in
-- the block or in a child cancels every child.
function M.open_nursery(opts, fn)
  if type(opts) == "function" then opts, fn = nil, opts end
  local implicit = false
  if not S.rt then
    M.open_root_actor(opts)
    implicit = true
  end
  local rc, n = C.nursery_open(S.rt)
  if rc ~= 0 then
    if implicit then M.close_root_actor() end
    raise(rc, nil, "open_nursery")
  end
  local an = setmetatable({_n = n, portals = {}, pending = {}}, Nursery)
  if not fn then
    an._implicit_root = implicit
    return an
  end
  local r = pack(xpcall(fn, function(e) return e end, an))
  local ok2, crc, cerr = pcall(an._close, an, not r[1])
  if implicit then M.close_root_actor() end
  if not r[1] then error(r[2], 0) end
  if not ok2 then error(crc, 0) end
  if crc ~= 0 and crc ~= E.ECANCELLED then raise(crc, cerr, "nursery") end
  return unpack(r, 2, r.n)
end

--- Connect to an actor listening at `addr` (multiaddr, host:port or path).
function M.connect(addr, timeout)
  assert(S.rt, "no actor runtime is open")
  local ms = timeout and math.floor(timeout * 1000) or -1
  local rc, p = await_job(C.portal_connect(true, S.rt, addr, ms))
  if rc ~= 0 then raise(rc, nil, ("connect('%s')"):format(addr)) end
  return new_portal(p)
end

--- Portal to the actor registered as `name` (raises LookupError if none).
function M.find_actor(name, timeout)
  assert(S.rt, "no actor runtime is open")
  local ms = timeout and math.floor(timeout * 1000) or -1
  local rc, p = await_job(C.find_actor(true, S.rt, name, ms))
  if rc ~= 0 then raise(rc, nil, ("find_actor('%s')"):format(name)) end
  return new_portal(p)
end

--- Wait until an actor called `name` registers, then connect.
function M.wait_for_actor(name, timeout)
  assert(S.rt, "no actor runtime is open")
  local ms = timeout and math.floor(timeout * 1000) or -1
  local rc, p = await_job(C.wait_for_actor(true, S.rt, name, ms))
  if rc ~= 0 then raise(rc, nil, ("wait_for_actor('%s')"):format(name)) end
  return new_portal(p)
end

--- Add a directory (or a template with '?') where this process and the Lua
-- children it spawns afterwards look for modules: prepended to package.path
-- here and to $TRACTOR_LUA_PATH, which tractor_child.lua reads.
function M.add_lua_path(dir)
  local tmpl = dir:find("?", 1, true) and dir or (dir .. "/?.lua;" .. dir .. "/?/init.lua")
  package.path = tmpl .. ";" .. package.path
  local cur = os.getenv("TRACTOR_LUA_PATH")
  C.setenv("TRACTOR_LUA_PATH", (cur and cur ~= "") and (dir .. ";" .. cur) or dir)
end

--- Values: tractor.bin(s) sends s as msgpack bin; tractor.map(t) sends t as
-- a map even when empty or array-like.
function M.bin(s)
  assert(type(s) == "string", "tractor.bin expects a string")
  return setmetatable({s}, C.bin_mt)
end

function M.map(t)
  return setmetatable(t or {}, C.map_mt)
end

M.encode, M.decode = C.encode, C.decode

------------------------------------------------------------------------------
-- The Lua child host (tractor_child.lua calls this)

local function module_error_type(msg)
  return msg:find("module '[^']*' not found") and "ModuleNotFoundError" or "ImportError"
end

--- Run this process as a child actor: `argv` is the child command line
-- (--uid ... --parent_addr ... --loglevel L). Returns the exit status.
function M.run_child(argv)
  local rc, rt = C.rt_open{child_argv = argv}
  if rc ~= 0 then
    io.stderr:write(("tractor_child.lua: cannot start: %s\n"):format(C.strerror(rc)))
    return 2
  end
  S.rt, S.uuid = rt, C.rt_info(rt).uuid
  for _, name in ipairs(C.rt_enabled_modules(rt)) do
    local ok, w = xpcall(load_module, keep_tb, name)
    if not ok then
      local full = tostring(M.is_error(w.e) and w.e.message or w.e)
      -- message: the first line, without the position of the require call
      local msg = full:match("^[^\n]*"):gsub("^[^:]*tractor%.lua:%d+: ", "")
      C.log(rt, 40, "child", ("loading Lua module %s failed: %s"):format(name, msg))
      C.rt_boot_failed(rt, module_error_type(msg), msg, full .. "\n" .. (w.tb or ""))
      S.rt = nil
      C.rt_close(rt)
      return 1
    end
  end
  S.serving = true
  rc = C.rt_serve(rt)
  if rc == 0 then
    while C.rt_wait(rt, 0) ~= 0 do S.step() end
  end
  S.rt, S.uuid, S.serving = nil, nil, false
  C.rt_close(rt)
  return rc == 0 and 0 or 1
end

return M
