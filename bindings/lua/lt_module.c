/* tractor_c: the Lua 5.4 C module under tractor.lua.
 *
 * A thin, direct mapping of include/tractor/tractor.h for the pure-Lua layer:
 * handles are userdata, payloads are Lua values (converted in lt_value.c),
 * results come back as `rc, ...` (see lt.h). The runtime always runs in
 * TR_TASKS_HOST mode: served tasks are queued for tractor.lua's coroutine
 * scheduler, and every wait is called with timeout 0 so it can yield. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bindings/lua/lt.h"

/* ---- helpers ---------------------------------------------------------------- */

static int push_bad_value(lua_State *L, const char *err) {
    lua_pushinteger(L, TR_EINVAL);
    lt_push_local_error(L, "TypeError", err, TR_EINVAL);
    return 2;
}

/* rc, value | rc, err for a call that filled `buf` and maybe `e`. */
static int push_value_result(lua_State *L, int rc, tr_buf_t *buf, tr_error_t *e) {
    if (rc) {
        tr_buf_release(buf);
        return lt_push_rc_err(L, rc, e);
    }
    tr_error_free(e);
    char err[300];
    lua_pushinteger(L, 0);
    if (lt_push_buf(L, buf, err, sizeof err)) {
        lua_pop(L, 1);
        lua_pushinteger(L, TR_EPROTO);
        lt_push_local_error(L, "MsgTypeError", err, TR_EPROTO);
    }
    return 2;
}

static const char *opt_field(lua_State *L, int t, const char *k) {
    if (lua_type(L, t) != LUA_TTABLE) return NULL;
    lua_getfield(L, t, k);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option `%s` must be a string", k);
        s = lua_tostring(L, -1); /* kept alive by the options table */
    }
    lua_pop(L, 1);
    return s;
}

static int opt_bool(lua_State *L, int t, const char *k, int dflt) {
    if (lua_type(L, t) != LUA_TTABLE) return dflt;
    lua_getfield(L, t, k);
    int v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static lua_Integer opt_int(lua_State *L, int t, const char *k, lua_Integer dflt) {
    if (lua_type(L, t) != LUA_TTABLE) return dflt;
    lua_getfield(L, t, k);
    lua_Integer v = luaL_optinteger(L, -1, dflt);
    lua_pop(L, 1);
    return v;
}

/* ---- module-level --------------------------------------------------------------- */

static int l_version(lua_State *L) {
    lua_pushstring(L, tr_version());
    return 1;
}

static int l_strerror(lua_State *L) {
    lua_pushstring(L, tr_strerror((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int l_err_name(lua_State *L) {
    lua_pushstring(L, tr_err_name((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int l_log_level(lua_State *L) {
    lua_pushinteger(L, tr_log_level_from_name(luaL_checkstring(L, 1)));
    return 1;
}

/* log(rt|nil, level, module, msg) */
static int l_log(lua_State *L) {
    tr_runtime_t *rt = lua_isnil(L, 1) ? NULL : lt_check_open(L, 1, LT_RUNTIME);
    tr_log_str(rt, (int)luaL_checkinteger(L, 2), luaL_checkstring(L, 3), luaL_checkstring(L, 4));
    return 0;
}

static int l_monotonic(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* wait(rt|nil, timeout_ms) -> true when the runtime fd or the job waker is
 * readable (something may have progressed), false on timeout. */
static int l_wait(lua_State *L) {
    tr_runtime_t *rt = lua_isnil(L, 1) ? NULL : lt_check_open(L, 1, LT_RUNTIME);
    int timeout = (int)luaL_checkinteger(L, 2);
    struct pollfd p[2];
    int n = 0;
    if (rt) p[n++] = (struct pollfd){tr_runtime_fd(rt), POLLIN, 0};
    int wfd = lt_waker_fd(L);
    if (wfd >= 0) p[n++] = (struct pollfd){wfd, POLLIN, 0};
    int r;
    do r = poll(p, (nfds_t)n, timeout);
    while (r < 0 && errno == EINTR && timeout < 0);
    lua_pushboolean(L, r > 0);
    return 1;
}

/* clear(rt|nil): reset the runtime fd and the job waker before polling. */
static int l_clear(lua_State *L) {
    if (!lua_isnil(L, 1)) tr_runtime_fd_clear(lt_check_open(L, 1, LT_RUNTIME));
    int wfd = lt_waker_fd(L);
    if (wfd >= 0) {
        uint64_t v;
        ssize_t r = read(wfd, &v, sizeof v);
        (void)r;
    }
    return 0;
}

/* setenv(name, value): children inherit the process environment when they
 * are spawned (TRACTOR_LUA_PATH, LUA_PATH...). Call before spawning. */
static int l_setenv(lua_State *L) {
    const char *k = luaL_checkstring(L, 1);
    int rc = lua_isnil(L, 2) ? unsetenv(k) : setenv(k, luaL_checkstring(L, 2), 1);
    lua_pushboolean(L, rc == 0);
    return 1;
}

/* ---- runtime ------------------------------------------------------------------ */

/* rt_open(opts) -> rc, rt */
static int l_rt_open(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = opt_field(L, 1, "name");
    o.transport = opt_field(L, 1, "transport");
    o.bind_addr = opt_field(L, 1, "bind_addr");
    o.registry_addrs = opt_field(L, 1, "registry_addrs");
    o.loglevel = opt_field(L, 1, "loglevel");
    o.module_path = opt_field(L, 1, "module_path");
    o.enable_registrar = opt_bool(L, 1, "enable_registrar", 1);
    o.handle_signals = opt_bool(L, 1, "handle_signals", 1);
    o.max_frame_size = (uint32_t)opt_int(L, 1, "max_frame_size", 0);
    o.task_mode = TR_TASKS_HOST;
    char **argv = NULL;
    lua_getfield(L, 1, "child_argv");
    if (lua_type(L, -1) == LUA_TTABLE) {
        int t = lua_gettop(L);
        lua_Integer n = luaL_len(L, t);
        if (n < 1 || n > 256) return luaL_error(L, "child_argv must hold 1..256 strings");
        /* a userdata owns the pointer array; the strings stay on the table */
        argv = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, t, i);
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "child_argv[%d] is not a string", (int)i);
            argv[i - 1] = (char *)lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        argv[n] = NULL;
        o.child_argc = (int)n;
        o.child_argv = argv;
    }
    tr_runtime_t *rt = NULL;
    int rc = tr_runtime_open(&o, &rt);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    lt_push_handle(L, LT_RUNTIME, rt);
    return 2;
}

static int l_rt_close(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    tr_runtime_cancel(rt); /* lets helper threads (nursery close...) return */
    lt_jobs_join_all(L);
    lt_check_handle(L, 1, LT_RUNTIME)->h = NULL;
    lua_pushinteger(L, tr_runtime_close(rt));
    return 1;
}

static int l_rt_serve(lua_State *L) {
    lua_pushinteger(L, tr_runtime_serve(lt_check_open(L, 1, LT_RUNTIME)));
    return 1;
}

static int l_rt_wait(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    lua_pushinteger(L, tr_runtime_wait(rt, (int)luaL_optinteger(L, 2, 0)));
    return 1;
}

static int l_rt_cancel(lua_State *L) {
    lua_pushinteger(L, tr_runtime_cancel(lt_check_open(L, 1, LT_RUNTIME)));
    return 1;
}

static int l_rt_cancelled(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    lua_pushboolean(L, tr_runtime_cancelled(rt));
    const char *why = tr_runtime_cancel_reason(rt);
    if (why) lua_pushstring(L, why);
    else lua_pushnil(L);
    return 2;
}

static int l_rt_info(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, tr_runtime_name(rt));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, tr_runtime_uuid(rt));
    lua_setfield(L, -2, "uuid");
    char addr[512];
    if (tr_runtime_addr(rt, addr, sizeof addr) == 0) {
        lua_pushstring(L, addr);
        lua_setfield(L, -2, "addr");
    }
    lua_pushboolean(L, tr_runtime_is_child(rt));
    lua_setfield(L, -2, "is_child");
    lua_pushboolean(L, tr_runtime_is_registrar(rt));
    lua_setfield(L, -2, "is_registrar");
    lua_pushinteger(L, tr_runtime_loglevel(rt));
    lua_setfield(L, -2, "loglevel");
    return 1;
}

static int l_rt_enabled_modules(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    size_t n = tr_runtime_enabled_module_count(rt);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, tr_runtime_enabled_module(rt, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_rt_boot_failed(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    lua_pushinteger(L, tr_runtime_boot_failed(rt, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
                                              luaL_optstring(L, 4, "")));
    return 1;
}

/* Never called by the runtime in TR_TASKS_HOST mode (tasks are queued for
 * the Lua scheduler); here only because registration needs a function. */
static int queued_for_lua(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_error(ctx, "RuntimeError", "a Lua function can only run on the Lua scheduler", NULL);
    return TR_ESTATE;
}

/* rt_register(rt, ns, name, kind[, pld_spec]) -> rc */
static int l_rt_register(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    const char *ns = luaL_checkstring(L, 2), *name = luaL_checkstring(L, 3);
    int kind = (int)luaL_checkinteger(L, 4);
    const char *spec = luaL_optstring(L, 5, NULL);
    lua_pushinteger(L, tr_register_func(rt, ns, name, (tr_functype_t)kind, queued_for_lua, NULL, spec));
    return 1;
}

/* rt_next_task(rt) -> rc [, ctx] */
static int l_rt_next_task(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    tr_ctx_t *c = NULL;
    luaL_checkstack(L, 4, NULL);
    lt_handle *u = lt_push_handle_from(L, LT_CTX, NULL, 1); /* before taking it */
    int rc = tr_runtime_next_task(rt, &c, 0);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = c;
    u->callee = 1;
    lua_insert(L, -2);
    return 2;
}

/* load_c_module(rt, name) -> rc [, message] */
static int l_load_c_module(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    char err[1024] = "";
    int rc = tr_load_c_module(rt, luaL_checkstring(L, 2), err, sizeof err);
    lua_pushinteger(L, rc);
    if (!rc) return 1;
    lua_pushstring(L, err);
    return 2;
}

/* ---- nurseries (the blocking calls are jobs, in lt_jobs.c) ------------------ */

static int l_nursery_open(lua_State *L) {
    tr_runtime_t *rt = lt_check_open(L, 1, LT_RUNTIME);
    lt_handle *u = lt_push_handle_from(L, LT_NURSERY, NULL, 1);
    tr_nursery_t *n = NULL;
    int rc = tr_nursery_open(rt, &n);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = n;
    lua_insert(L, -2);
    return 2;
}

static int l_nursery_child_count(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)tr_nursery_child_count(lt_check_open(L, 1, LT_NURSERY)));
    return 1;
}

/* ---- portals ------------------------------------------------------------------- */

static int l_portal_info(lua_State *L) {
    tr_portal_t *p = lt_check_open(L, 1, LT_PORTAL);
    lua_pushstring(L, tr_portal_name(p));
    lua_pushstring(L, tr_portal_uuid(p));
    lua_pushinteger(L, tr_portal_pid(p));
    lua_pushboolean(L, tr_portal_connected(p));
    return 4;
}

static int l_portal_release(lua_State *L) {
    lt_handle *u = lt_check_handle(L, 1, LT_PORTAL);
    if (u->h) tr_portal_release(lt_check_open(L, 1, LT_PORTAL));
    u->h = NULL;
    return 0;
}

static int encode_kwargs(lua_State *L, int idx, lt_wbuf *kw, char *err, size_t errlen) {
    if (lua_isnoneornil(L, idx)) return 0;
    if (lua_type(L, idx) != LUA_TTABLE) {
        snprintf(err, errlen, "kwargs must be a table (got %s)", luaL_typename(L, idx));
        return -1;
    }
    return lt_encode_opt(L, idx, kw, "kwargs", 1, err, errlen);
}

/* portal_start_call(p, ns, func, kwargs) -> rc, ctx | rc, err */
static int l_portal_start_call(lua_State *L) {
    tr_portal_t *p = lt_check_open(L, 1, LT_PORTAL);
    const char *ns = luaL_checkstring(L, 2), *func = luaL_checkstring(L, 3);
    lt_wbuf kw = {0};
    char err[400];
    if (encode_kwargs(L, 4, &kw, err, sizeof err)) return push_bad_value(L, err);
    lt_handle *u = lt_push_handle_from(L, LT_CTX, NULL, 1);
    tr_ctx_t *c = NULL;
    int rc = tr_portal_start_call(p, ns, func, kw.p, kw.len, &c);
    lt_wbuf_free(&kw);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = c;
    lua_insert(L, -2);
    return 2;
}

/* portal_start_context(p, ns, func, kwargs, opts{allow_overruns,
 * msg_buffer_size, pld_spec}) -> rc, ctx | rc, err */
static int l_portal_start_context(lua_State *L) {
    tr_portal_t *p = lt_check_open(L, 1, LT_PORTAL);
    const char *ns = luaL_checkstring(L, 2), *func = luaL_checkstring(L, 3);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = opt_bool(L, 5, "allow_overruns", 0);
    o.msg_buffer_size = (int)opt_int(L, 5, "msg_buffer_size", o.msg_buffer_size);
    o.pld_spec = opt_field(L, 5, "pld_spec");
    lt_wbuf kw = {0};
    char err[400];
    if (encode_kwargs(L, 4, &kw, err, sizeof err)) return push_bad_value(L, err);
    lt_handle *u = lt_push_handle_from(L, LT_CTX, NULL, 1);
    tr_ctx_t *c = NULL;
    int rc = tr_portal_start_context(p, ns, func, kw.p, kw.len, &o, &c);
    lt_wbuf_free(&kw);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = c;
    lua_insert(L, -2);
    return 2;
}

/* portal_wait_for_result(p, timeout_ms) -> rc, value | rc, err */
static int l_portal_wait_for_result(lua_State *L) {
    tr_portal_t *p = lt_check_open(L, 1, LT_PORTAL);
    tr_buf_t b = {0};
    tr_error_t *e = NULL;
    int rc = tr_portal_wait_for_result(p, &b, &e, (int)luaL_optinteger(L, 2, 0));
    return push_value_result(L, rc, &b, e);
}

/* ---- contexts ---------------------------------------------------------------- */

static int l_ctx_wait_started(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    tr_buf_t b = {0};
    tr_error_t *e = NULL;
    int rc = tr_ctx_wait_started(c, &b, &e, (int)luaL_optinteger(L, 2, 0));
    return push_value_result(L, rc, &b, e);
}

static int l_ctx_wait_for_result(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    tr_buf_t b = {0};
    tr_error_t *e = NULL;
    int rc = tr_ctx_wait_for_result(c, &b, &e, (int)luaL_optinteger(L, 2, 0));
    return push_value_result(L, rc, &b, e);
}

/* ctx_started(c, value) -> rc [, err] */
static int l_ctx_started(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lt_wbuf b = {0};
    char err[400];
    if (lt_encode(L, 2, &b, "started value", err, sizeof err)) return push_bad_value(L, err);
    int rc = tr_ctx_started(c, b.p, b.len);
    lt_wbuf_free(&b);
    lua_pushinteger(L, rc);
    return 1;
}

static int l_ctx_open_stream(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lt_handle *u = lt_push_handle_from(L, LT_STREAM, NULL, 1);
    tr_stream_t *s = NULL;
    int rc = tr_ctx_open_stream(c, &s);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = s;
    lua_insert(L, -2);
    return 2;
}

/* ctx_state(c) -> has_outcome, cancel_called, cancel_acked, canceller_name,
 * canceller_uuid */
static int l_ctx_state(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lua_pushboolean(L, tr_ctx_has_outcome(c));
    lua_pushboolean(L, tr_ctx_cancel_called(c));
    lua_pushboolean(L, tr_ctx_cancel_acked(c));
    const char *n = NULL, *u = NULL;
    if (tr_ctx_canceller(c, &n, &u)) {
        lua_pushstring(L, n);
        lua_pushstring(L, u);
        return 5;
    }
    return 3;
}

static int l_ctx_cancel_called(lua_State *L) {
    lua_pushboolean(L, tr_ctx_cancel_called(lt_check_open(L, 1, LT_CTX)));
    return 1;
}

/* ctx_info(c) -> cid, ns, func, kind, peer_name, peer_uuid, callee */
static int l_ctx_info(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lt_handle *u = lt_check_handle(L, 1, LT_CTX);
    const char *v[] = {tr_ctx_cid(c), tr_ctx_ns(c), tr_ctx_func(c)};
    for (int i = 0; i < 3; i++) {
        if (v[i]) lua_pushstring(L, v[i]);
        else lua_pushnil(L);
    }
    lua_pushinteger(L, tr_ctx_kind(c));
    lua_pushstring(L, tr_ctx_peer_name(c));
    lua_pushstring(L, tr_ctx_peer_uuid(c));
    lua_pushboolean(L, u->callee);
    return 7;
}

/* ctx_kwargs(c) -> rc, kwargs | rc, err */
static int l_ctx_kwargs(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    const void *buf;
    size_t len;
    int rc = tr_ctx_kwargs(c, &buf, &len);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    char err[300];
    if (lt_decode(L, buf, len, err, sizeof err)) {
        lua_pop(L, 1);
        lua_pushinteger(L, TR_EPROTO);
        lt_push_local_error(L, "MsgTypeError", err, TR_EPROTO);
    }
    return 2;
}

static int l_ctx_set_result(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lt_wbuf b = {0};
    char err[400];
    if (lt_encode(L, 2, &b, "return value", err, sizeof err)) return push_bad_value(L, err);
    int rc = tr_ctx_set_result(c, b.p, b.len);
    lt_wbuf_free(&b);
    lua_pushinteger(L, rc);
    return 1;
}

static int l_ctx_set_error(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lua_pushinteger(L, tr_ctx_set_error(c, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
                                        luaL_optstring(L, 4, NULL)));
    return 1;
}

/* ctx_set_remote_error(c, err_table) -> rc (uses its _handle) */
static int l_ctx_set_remote_error(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "_handle");
    lt_handle *h = luaL_testudata(L, -1, LT_ERROR);
    lua_pushinteger(L, h && h->h ? tr_ctx_set_remote_error(c, h->h) : TR_EINVAL);
    return 1;
}

/* ctx_set_overruns(c, allow, msg_buffer_size) -> rc */
static int l_ctx_set_overruns(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lua_pushinteger(L, tr_ctx_set_overruns(c, lua_toboolean(L, 2), (int)luaL_optinteger(L, 3, 0)));
    return 1;
}

static int l_ctx_limit_plds(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lua_pushinteger(L, tr_ctx_limit_plds(c, luaL_checkstring(L, 2)));
    return 1;
}

/* ctx_finish(c, rc) -> rc; the callee handle is released afterwards. */
static int l_ctx_finish(lua_State *L) {
    tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
    lt_handle *u = lt_check_handle(L, 1, LT_CTX);
    if (!u->callee) return luaL_error(L, "ctx_finish is for served tasks");
    int rc = tr_ctx_finish(c, (int)luaL_checkinteger(L, 2));
    u->h = NULL;
    tr_ctx_release(c);
    lua_pushinteger(L, rc);
    return 1;
}

static int l_ctx_release(lua_State *L) {
    lt_handle *u = lt_check_handle(L, 1, LT_CTX);
    if (u->h) {
        tr_ctx_t *c = lt_check_open(L, 1, LT_CTX);
        if (u->callee) tr_ctx_finish(c, TR_ECANCELLED);
        u->h = NULL;
        tr_ctx_release(c);
    }
    return 0;
}

/* ---- streams ------------------------------------------------------------------ */

static int l_stream_send(lua_State *L) {
    tr_stream_t *s = lt_check_open(L, 1, LT_STREAM);
    lt_wbuf b = {0};
    char err[400];
    if (lt_encode(L, 2, &b, "stream value", err, sizeof err)) return push_bad_value(L, err);
    tr_error_t *e = NULL;
    int rc = tr_stream_send(s, b.p, b.len, &e);
    lt_wbuf_free(&b);
    return lt_push_rc_err(L, rc, e);
}

static int l_stream_recv(lua_State *L) {
    tr_stream_t *s = lt_check_open(L, 1, LT_STREAM);
    tr_buf_t b = {0};
    tr_error_t *e = NULL;
    int rc = tr_stream_recv(s, &b, &e, (int)luaL_optinteger(L, 2, 0));
    return push_value_result(L, rc, &b, e);
}

static int l_stream_close(lua_State *L) {
    lua_pushinteger(L, tr_stream_close(lt_check_open(L, 1, LT_STREAM)));
    return 1;
}

static int l_stream_subscribe(lua_State *L) {
    tr_stream_t *s = lt_check_open(L, 1, LT_STREAM);
    lt_handle *u = lt_push_handle_from(L, LT_STREAM, NULL, 1);
    tr_stream_t *sub = NULL;
    int rc = tr_stream_subscribe(s, &sub);
    lua_pushinteger(L, rc);
    if (rc) return 1;
    u->h = sub;
    lua_insert(L, -2);
    return 2;
}

static int l_stream_release(lua_State *L) {
    lt_handle *u = lt_check_handle(L, 1, LT_STREAM);
    if (u->h) tr_stream_release(lt_check_open(L, 1, LT_STREAM));
    u->h = NULL;
    return 0;
}

/* ---- module -------------------------------------------------------------------- */

static const luaL_Reg module_fns[] = {
    {"version", l_version},
    {"strerror", l_strerror},
    {"err_name", l_err_name},
    {"log_level", l_log_level},
    {"log", l_log},
    {"monotonic", l_monotonic},
    {"wait", l_wait},
    {"clear", l_clear},
    {"setenv", l_setenv},
    {"rt_open", l_rt_open},
    {"rt_close", l_rt_close},
    {"rt_serve", l_rt_serve},
    {"rt_wait", l_rt_wait},
    {"rt_cancel", l_rt_cancel},
    {"rt_cancelled", l_rt_cancelled},
    {"rt_info", l_rt_info},
    {"rt_enabled_modules", l_rt_enabled_modules},
    {"rt_boot_failed", l_rt_boot_failed},
    {"rt_register", l_rt_register},
    {"rt_next_task", l_rt_next_task},
    {"load_c_module", l_load_c_module},
    {"nursery_open", l_nursery_open},
    {"nursery_child_count", l_nursery_child_count},
    {"portal_info", l_portal_info},
    {"portal_release", l_portal_release},
    {"portal_start_call", l_portal_start_call},
    {"portal_start_context", l_portal_start_context},
    {"portal_wait_for_result", l_portal_wait_for_result},
    {"ctx_wait_started", l_ctx_wait_started},
    {"ctx_wait_for_result", l_ctx_wait_for_result},
    {"ctx_started", l_ctx_started},
    {"ctx_open_stream", l_ctx_open_stream},
    {"ctx_state", l_ctx_state},
    {"ctx_cancel_called", l_ctx_cancel_called},
    {"ctx_info", l_ctx_info},
    {"ctx_kwargs", l_ctx_kwargs},
    {"ctx_set_result", l_ctx_set_result},
    {"ctx_set_error", l_ctx_set_error},
    {"ctx_set_remote_error", l_ctx_set_remote_error},
    {"ctx_limit_plds", l_ctx_limit_plds},
    {"ctx_set_overruns", l_ctx_set_overruns},
    {"ctx_finish", l_ctx_finish},
    {"ctx_release", l_ctx_release},
    {"stream_send", l_stream_send},
    {"stream_recv", l_stream_recv},
    {"stream_close", l_stream_close},
    {"stream_subscribe", l_stream_subscribe},
    {"stream_release", l_stream_release},
    {NULL, NULL}};

int luaopen_tractor_c(lua_State *L) {
    lt_handles_open(L);
    lua_newtable(L);
    luaL_setfuncs(L, module_fns, 0);
    lt_value_open(L);
    lt_jobs_open(L);
    /* error codes by name: C.E.EAGAIN == -3 ... */
    lua_newtable(L);
#define XX(name, code, text)  \
    lua_pushinteger(L, code); \
    lua_setfield(L, -2, #name);
    TR_ERRNO_MAP(XX)
#undef XX
    lua_setfield(L, -2, "E");
    lua_pushinteger(L, TR_FUNC_ASYNCFUNC);
    lua_setfield(L, -2, "FUNC_ASYNCFUNC");
    lua_pushinteger(L, TR_FUNC_CONTEXT);
    lua_setfield(L, -2, "FUNC_CONTEXT");
    return 1;
}
