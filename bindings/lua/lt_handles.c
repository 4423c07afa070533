/* Handle userdata (runtime, nursery, portal, ctx, stream, error) and the
 * conversion of tr_error_t into Lua tables.
 *
 * Every handle but the runtime keeps the runtime's userdata as its first user
 * value. Once the runtime is closed every handle derived from it is inert:
 * using it raises "the runtime is closed" and its __gc does nothing (the
 * library frees what it owned when the runtime closed). */
#include <string.h>

#include "bindings/lua/lt.h"

/* The runtime userdata a handle at `idx` belongs to (pushed), or the handle
 * itself when it is the runtime. */
static void push_runtime_of(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (luaL_testudata(L, idx, LT_RUNTIME)) {
        lua_pushvalue(L, idx);
        return;
    }
    lua_getiuservalue(L, idx, 1);
}

static int runtime_alive_at(lua_State *L, int idx) {
    push_runtime_of(L, idx);
    lt_handle *r = luaL_testudata(L, -1, LT_RUNTIME);
    int alive = r && r->h;
    lua_pop(L, 1);
    return alive;
}

lt_handle *lt_push_handle_from(lua_State *L, const char *tname, void *h, int parent_idx) {
    parent_idx = lua_absindex(L, parent_idx);
    lt_handle *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->h = h;
    u->callee = 0;
    push_runtime_of(L, parent_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, tname);
    return u;
}

lt_handle *lt_push_handle(lua_State *L, const char *tname, void *h) {
    lt_handle *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->h = h;
    u->callee = 0;
    luaL_setmetatable(L, tname);
    return u;
}

lt_handle *lt_check_handle(lua_State *L, int arg, const char *tname) {
    return luaL_checkudata(L, arg, tname);
}

void *lt_check_open(lua_State *L, int arg, const char *tname) {
    lt_handle *u = luaL_checkudata(L, arg, tname);
    if (!u->h) luaL_error(L, "%s handle is closed", tname);
    if (strcmp(tname, LT_RUNTIME) && !runtime_alive_at(L, arg))
        luaL_error(L, "%s handle belongs to a runtime that is closed", tname);
    return u->h;
}

/* ---- __gc / __tostring ---------------------------------------------------- */

/* The Lua state closes with the runtime still open (an uncaught error):
 * cancel the actor, let helper threads return, close it. */
static int gc_runtime(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_RUNTIME);
    if (u->h) {
        tr_runtime_cancel(u->h);
        lt_jobs_join_all(L);
        tr_runtime_close(u->h);
        u->h = NULL;
    }
    return 0;
}

static int gc_nursery(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_NURSERY);
    if (u->h && runtime_alive_at(L, 1)) tr_nursery_close(u->h, 1, NULL);
    u->h = NULL;
    return 0;
}

static int gc_portal(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_PORTAL);
    if (u->h && runtime_alive_at(L, 1)) tr_portal_release(u->h);
    u->h = NULL;
    return 0;
}

static int gc_ctx(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_CTX);
    if (u->h && runtime_alive_at(L, 1)) {
        tr_ctx_t *c = u->h;
        if (u->callee) {
            /* a served task abandoned before it finished: report it */
            tr_ctx_finish(c, TR_ECANCELLED);
        } else if (tr_ctx_has_outcome(c)) {
            tr_ctx_close(c, 0);
            c = NULL;
        }
        if (c) tr_ctx_release(c);
    }
    u->h = NULL;
    return 0;
}

static int gc_stream(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_STREAM);
    if (u->h && runtime_alive_at(L, 1)) tr_stream_release(u->h);
    u->h = NULL;
    return 0;
}

static int gc_error(lua_State *L) {
    lt_handle *u = luaL_checkudata(L, 1, LT_ERROR);
    if (u->h) tr_error_free(u->h);
    u->h = NULL;
    return 0;
}

static int tostring_handle(lua_State *L) {
    lt_handle *u = lua_touserdata(L, 1);
    lua_getfield(L, lua_upvalueindex(1), "__name");
    lua_pushfstring(L, "%s: %p%s", lua_tostring(L, -1), (void *)u, u && u->h ? "" : " (closed)");
    return 1;
}

static void new_mt(lua_State *L, const char *name, lua_CFunction gc) {
    luaL_newmetatable(L, name);
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, tostring_handle, 1);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

void lt_handles_open(lua_State *L) {
    new_mt(L, LT_RUNTIME, gc_runtime);
    new_mt(L, LT_NURSERY, gc_nursery);
    new_mt(L, LT_PORTAL, gc_portal);
    new_mt(L, LT_CTX, gc_ctx);
    new_mt(L, LT_STREAM, gc_stream);
    new_mt(L, LT_ERROR, gc_error);
}

/* ---- errors ------------------------------------------------------------------- */

static void set_str(lua_State *L, const char *k, const char *v) {
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_uid(lua_State *L, const char *k, const char *name, const char *uuid) {
    if (!name && !uuid) return;
    lua_createtable(L, 0, 2);
    set_str(L, "name", name ? name : "");
    set_str(L, "uuid", uuid ? uuid : "");
    lua_setfield(L, -2, k);
}

void lt_push_error(lua_State *L, const tr_error_t *e) {
    luaL_checkstack(L, 8, "building an error table");
    lua_createtable(L, 0, 14);
    set_str(L, "type", tr_error_type(e));
    set_str(L, "src_type", tr_error_src_type(e));
    set_str(L, "message", tr_error_message(e) ? tr_error_message(e) : "");
    set_str(L, "tb_str", tr_error_traceback(e) ? tr_error_traceback(e) : "");
    int code = tr_error_code(e);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "rc");
    set_str(L, "code", tr_err_name(code));
    set_uid(L, "src_uid", tr_error_src_name(e), tr_error_src_uuid(e));
    size_t nr = tr_error_relay_len(e);
    lua_createtable(L, (int)nr, 0);
    for (size_t i = 0; i < nr; i++) {
        lua_createtable(L, 0, 2);
        set_str(L, "name", tr_error_relay_name(e, i));
        set_str(L, "uuid", tr_error_relay_uuid(e, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "relay_path");
    set_uid(L, "canceller", tr_error_canceller_name(e), tr_error_canceller_uuid(e));
    set_uid(L, "sender", tr_error_sender_name(e), tr_error_sender_uuid(e));
    set_str(L, "cid", tr_error_cid(e));
    set_str(L, "summary", tr_error_str(e));
    size_t ng = tr_error_group_len(e);
    if (ng) {
        lua_createtable(L, (int)ng, 0);
        for (size_t i = 0; i < ng; i++) {
            lt_push_error(L, tr_error_group_at(e, i));
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "errors");
    }
    /* a private copy, so a served function can relay it (inception) */
    lt_handle *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->h = NULL;
    u->callee = 0;
    luaL_setmetatable(L, LT_ERROR);
    u->h = tr_error_copy(e);
    lua_setfield(L, -2, "_handle");
}

void lt_push_local_error(lua_State *L, const char *type, const char *msg, int code) {
    lua_createtable(L, 0, 6);
    set_str(L, "type", type);
    set_str(L, "src_type", type);
    set_str(L, "message", msg);
    set_str(L, "tb_str", "");
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "rc");
    set_str(L, "code", tr_err_name(code));
    lua_newtable(L);
    lua_setfield(L, -2, "relay_path");
}

int lt_push_rc_err(lua_State *L, int rc, tr_error_t *e) {
    lua_pushinteger(L, rc);
    if (!e) return 1;
    lt_push_error(L, e);
    tr_error_free(e);
    return 2;
}
