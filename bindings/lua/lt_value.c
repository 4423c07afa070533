/* Lua values <-> msgpack, in C.
 *
 *   nil <-> nil            boolean <-> bool
 *   integer <-> int        (kept an integer; a uint64 above 2^63-1 decodes
 *                           to a float, the only lossy case)
 *   float <-> float64      (1.0 stays a float)
 *   string -> str when it is valid UTF-8, bin otherwise; str and bin both
 *             decode to a Lua string. tractor.bin(s) forces bin.
 *   table  -> array when its keys are exactly 1..n (n >= 0; so {} is an
 *             empty array), map otherwise. tractor.map(t) forces a map;
 *             a decoded empty map carries that mark so it round-trips.
 *   functions, userdata, threads, cycles, nesting deeper than LT_MAX_DEPTH:
 *             an error naming the offending path, before anything is sent.
 *
 * Both directions run under lua_pcall so that any error (including memory
 * errors raised by the Lua API) unwinds only through this file's frames. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/lua/lt.h"

#define LT_MAX_DEPTH 100

void lt_wbuf_free(lt_wbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- UTF-8 ------------------------------------------------------------ */

int lt_utf8_valid(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c == 0xe0) need = 2, lo = 0xa0;
        else if (c == 0xed) need = 2, hi = 0x9f; /* no surrogates */
        else if (c >= 0xe1 && c <= 0xef) need = 2;
        else if (c == 0xf0) need = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3) need = 3;
        else if (c == 0xf4) need = 3, hi = 0x8f;
        else return 0;
        if (n - i <= need) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
        i += need + 1;
    }
    return 1;
}

/* ---- encoder ------------------------------------------------------------ */

typedef struct enc {
    lua_State *L;
    lt_wbuf *b;
    int visiting; /* stack index of the table of tables being encoded */
    int top_map;  /* encode the top-level table as a map */
    const char *what;
    char path[256];
    size_t plen;
} enc;

static void put(enc *e, const void *p, size_t n) {
    lt_wbuf *b = e->b;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->len + n) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) luaL_error(e->L, "out of memory encoding %s", e->what);
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put1(enc *e, uint8_t c) { put(e, &c, 1); }

static void put_be(enc *e, uint8_t tag, uint64_t v, int bytes) {
    uint8_t t[9];
    t[0] = tag;
    for (int i = 0; i < bytes; i++) t[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(e, t, (size_t)bytes + 1);
}

static void enc_int(enc *e, lua_Integer v) {
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u < 128) put1(e, (uint8_t)u);
        else if (u <= 0xff) put_be(e, 0xcc, u, 1);
        else if (u <= 0xffff) put_be(e, 0xcd, u, 2);
        else if (u <= 0xffffffffu) put_be(e, 0xce, u, 4);
        else put_be(e, 0xcf, u, 8);
    } else {
        if (v >= -32) put1(e, (uint8_t)(0xe0 | (v + 32)));
        else if (v >= INT8_MIN) put_be(e, 0xd0, (uint64_t)v, 1);
        else if (v >= INT16_MIN) put_be(e, 0xd1, (uint64_t)v, 2);
        else if (v >= INT32_MIN) put_be(e, 0xd2, (uint64_t)v, 4);
        else put_be(e, 0xd3, (uint64_t)v, 8);
    }
}

static void enc_float(enc *e, double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_be(e, 0xcb, u, 8);
}

static void fail(enc *e, const char *fmt, const char *arg) {
    char msg[200];
    snprintf(msg, sizeof msg, fmt, arg);
    luaL_error(e->L, "cannot encode %s%s: %s", e->what, e->path, msg);
}

static void enc_len(enc *e, size_t n, uint8_t fix, uint8_t fixmax, uint8_t t8, uint8_t t16,
                    uint8_t t32) {
    if (fix && n <= fixmax) put1(e, (uint8_t)(fix | n));
    else if (t8 && n <= 0xff) put_be(e, t8, n, 1);
    else if (n <= 0xffff) put_be(e, t16, n, 2);
    else if (n <= 0xffffffffu) put_be(e, t32, n, 4);
    else fail(e, "%s", "longer than msgpack allows (2^32-1)");
}

static void enc_raw(enc *e, const char *s, size_t n, int bin) {
    if (bin) enc_len(e, n, 0, 0, 0xc4, 0xc5, 0xc6);
    else enc_len(e, n, 0xa0, 31, 0xd9, 0xda, 0xdb);
    put(e, s, n);
}

static void enc_value(enc *e, int idx, int depth);

/* path bookkeeping for error messages */
static size_t path_push_key(enc *e, int kidx) {
    size_t old = e->plen;
    lua_State *L = e->L;
    char seg[80];
    if (lua_type(L, kidx) == LUA_TNUMBER && lua_isinteger(L, kidx))
        snprintf(seg, sizeof seg, "[%lld]", (long long)lua_tointeger(L, kidx));
    else if (lua_type(L, kidx) == LUA_TSTRING)
        snprintf(seg, sizeof seg, ".%.60s", lua_tostring(L, kidx));
    else
        snprintf(seg, sizeof seg, "[<%s key>]", luaL_typename(L, kidx));
    size_t sl = strlen(seg);
    if (e->plen + sl < sizeof e->path) {
        memcpy(e->path + e->plen, seg, sl + 1);
        e->plen += sl;
    }
    return old;
}

static void path_pop(enc *e, size_t old) {
    e->plen = old;
    e->path[old] = 0;
}

static int has_mt(lua_State *L, int idx, const char *key) {
    if (!lua_getmetatable(L, idx)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    int eq = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return eq;
}

static void enc_table(enc *e, int idx, int depth) {
    lua_State *L = e->L;
    if (depth >= LT_MAX_DEPTH) fail(e, "nested deeper than %s levels", "100");
    luaL_checkstack(L, 8, "encoding a deeply nested table");
    if (has_mt(L, idx, LT_BIN_MT)) {
        lua_rawgeti(L, idx, 1);
        if (lua_type(L, -1) != LUA_TSTRING) fail(e, "%s", "tractor.bin() wraps a non-string");
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        enc_raw(e, s, n, 1);
        lua_pop(L, 1);
        return;
    }
    /* cycle check: visiting[t] is set while t is being encoded */
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->visiting) != LUA_TNIL) fail(e, "%s", "the table contains a cycle");
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, e->visiting);

    int as_map = (depth == 0 && e->top_map) || has_mt(L, idx, LT_MAP_MT);
    size_t count = 0;
    lua_Integer maxk = 0;
    int all_int = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (all_int && lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k < 1) all_int = 0;
            else if (k > maxk) maxk = k;
        } else {
            all_int = 0;
        }
    }
    if (!as_map && all_int && (size_t)maxk == count) {
        enc_len(e, count, 0x90, 15, 0, 0xdc, 0xdd);
        for (size_t i = 1; i <= count; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            lua_pushinteger(L, (lua_Integer)i);
            size_t old = path_push_key(e, lua_gettop(L));
            lua_pop(L, 1);
            enc_value(e, lua_gettop(L), depth + 1);
            path_pop(e, old);
            lua_pop(L, 1);
        }
    } else {
        enc_len(e, count, 0x80, 15, 0, 0xde, 0xdf);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            int v = lua_gettop(L), k = v - 1;
            size_t old = path_push_key(e, k);
            if (lua_type(L, k) == LUA_TNUMBER && !lua_isinteger(L, k) && isnan(lua_tonumber(L, k)))
                fail(e, "%s", "NaN map key");
            lua_pushvalue(L, k); /* encode a copy: lua_next needs the key intact */
            enc_value(e, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            enc_value(e, v, depth + 1);
            path_pop(e, old);
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, e->visiting);
}

static void enc_value(enc *e, int idx, int depth) {
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: put1(e, 0xc0); break;
    case LUA_TBOOLEAN: put1(e, lua_toboolean(L, idx) ? 0xc3 : 0xc2); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) enc_int(e, lua_tointeger(L, idx));
        else enc_float(e, (double)lua_tonumber(L, idx));
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        enc_raw(e, s, n, !lt_utf8_valid(s, n));
        break;
    }
    case LUA_TTABLE: enc_table(e, idx, depth); break;
    default:
        fail(e, "a %s cannot be sent (only nil, booleans, numbers, strings and tables)",
             luaL_typename(L, idx));
    }
}

static int enc_protected(lua_State *L) {
    enc *e = lua_touserdata(L, 2);
    lua_settop(L, 1);
    lua_newtable(L);
    e->L = L;
    e->visiting = 2;
    enc_value(e, 1, 0);
    return 0;
}

int lt_encode(lua_State *L, int idx, lt_wbuf *b, const char *what, char *err, size_t errlen) {
    return lt_encode_opt(L, idx, b, what, 0, err, errlen);
}

int lt_encode_opt(lua_State *L, int idx, lt_wbuf *b, const char *what, int top_map, char *err,
                  size_t errlen) {
    idx = lua_absindex(L, idx);
    enc e;
    memset(&e, 0, sizeof e);
    e.b = b;
    e.what = what;
    e.top_map = top_map;
    if (!lua_checkstack(L, 4)) {
        snprintf(err, errlen, "Lua stack overflow encoding %s", what);
        return -1;
    }
    lua_pushcfunction(L, enc_protected);
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, &e);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", m ? m : "error encoding a value");
        lua_pop(L, 1);
        lt_wbuf_free(b);
        return -1;
    }
    return 0;
}

/* ---- decoder ------------------------------------------------------------- */

typedef struct dec {
    const uint8_t *p, *end;
} dec;

static uint64_t rd_be(lua_State *L, dec *d, int bytes) {
    if (d->end - d->p < bytes) luaL_error(L, "truncated msgpack value");
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | d->p[i];
    d->p += bytes;
    return v;
}

static void dec_value(lua_State *L, dec *d, int depth);

static void bad_byte(lua_State *L, const char *fmt, unsigned c) {
    char msg[100];
    snprintf(msg, sizeof msg, fmt, c);
    luaL_error(L, "%s", msg);
}

static void dec_raw(lua_State *L, dec *d, uint64_t n) {
    if ((uint64_t)(d->end - d->p) < n) luaL_error(L, "truncated msgpack string");
    lua_pushlstring(L, (const char *)d->p, (size_t)n);
    d->p += n;
}

static void dec_array(lua_State *L, dec *d, uint64_t n, int depth) {
    if ((uint64_t)(d->end - d->p) < n) luaL_error(L, "truncated msgpack array");
    lua_createtable(L, n < 1024 ? (int)n : 1024, 0);
    for (uint64_t i = 1; i <= n; i++) {
        dec_value(L, d, depth + 1);
        lua_rawseti(L, -2, (lua_Integer)i);
    }
}

static void dec_map(lua_State *L, dec *d, uint64_t n, int depth) {
    if ((uint64_t)(d->end - d->p) < n * 2) luaL_error(L, "truncated msgpack map");
    lua_createtable(L, 0, n < 1024 ? (int)n : 1024);
    for (uint64_t i = 0; i < n; i++) {
        dec_value(L, d, depth + 1);
        if (lua_isnil(L, -1)) luaL_error(L, "a map key is nil (Lua tables cannot hold it)");
        if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) && isnan(lua_tonumber(L, -1)))
            luaL_error(L, "a map key is NaN (Lua tables cannot hold it)");
        dec_value(L, d, depth + 1);
        lua_rawset(L, -3);
    }
    if (n == 0) { /* keep it a map when sent back */
        lua_getfield(L, LUA_REGISTRYINDEX, LT_MAP_MT);
        lua_setmetatable(L, -2);
    }
}

static void dec_value(lua_State *L, dec *d, int depth) {
    if (depth >= LT_MAX_DEPTH) luaL_error(L, "msgpack value nested deeper than 100 levels");
    luaL_checkstack(L, 4, "decoding a deeply nested value");
    if (d->p >= d->end) luaL_error(L, "truncated msgpack value");
    uint8_t c = *d->p++;
    if (c <= 0x7f) lua_pushinteger(L, c);
    else if (c >= 0xe0) lua_pushinteger(L, (int8_t)c);
    else if (c >= 0xa0 && c <= 0xbf) dec_raw(L, d, c & 0x1f);
    else if (c >= 0x90 && c <= 0x9f) dec_array(L, d, c & 0x0f, depth);
    else if (c >= 0x80 && c <= 0x8f) dec_map(L, d, c & 0x0f, depth);
    else switch (c) {
    case 0xc0: lua_pushnil(L); break;
    case 0xc2: lua_pushboolean(L, 0); break;
    case 0xc3: lua_pushboolean(L, 1); break;
    case 0xcc: lua_pushinteger(L, (lua_Integer)rd_be(L, d, 1)); break;
    case 0xcd: lua_pushinteger(L, (lua_Integer)rd_be(L, d, 2)); break;
    case 0xce: lua_pushinteger(L, (lua_Integer)rd_be(L, d, 4)); break;
    case 0xcf: {
        uint64_t u = rd_be(L, d, 8);
        if (u > (uint64_t)INT64_MAX) lua_pushnumber(L, (lua_Number)u);
        else lua_pushinteger(L, (lua_Integer)u);
        break;
    }
    case 0xd0: lua_pushinteger(L, (int8_t)rd_be(L, d, 1)); break;
    case 0xd1: lua_pushinteger(L, (int16_t)rd_be(L, d, 2)); break;
    case 0xd2: lua_pushinteger(L, (int32_t)rd_be(L, d, 4)); break;
    case 0xd3: lua_pushinteger(L, (lua_Integer)(int64_t)rd_be(L, d, 8)); break;
    case 0xca: {
        uint32_t u = (uint32_t)rd_be(L, d, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        break;
    }
    case 0xcb: {
        uint64_t u = rd_be(L, d, 8);
        double f;
        memcpy(&f, &u, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        break;
    }
    case 0xd9: case 0xc4: dec_raw(L, d, rd_be(L, d, 1)); break;
    case 0xda: case 0xc5: dec_raw(L, d, rd_be(L, d, 2)); break;
    case 0xdb: case 0xc6: dec_raw(L, d, rd_be(L, d, 4)); break;
    case 0xdc: dec_array(L, d, rd_be(L, d, 2), depth); break;
    case 0xdd: dec_array(L, d, rd_be(L, d, 4), depth); break;
    case 0xde: dec_map(L, d, rd_be(L, d, 2), depth); break;
    case 0xdf: dec_map(L, d, rd_be(L, d, 4), depth); break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
    case 0xc7: case 0xc8: case 0xc9:
        bad_byte(L, "msgpack ext types are not supported (type byte 0x%02x)", c);
        break;
    default: bad_byte(L, "invalid msgpack type byte 0x%02x", c);
    }
}

static int dec_protected(lua_State *L) {
    dec *d = lua_touserdata(L, 1);
    lua_settop(L, 0);
    dec_value(L, d, 0);
    if (d->p != d->end) luaL_error(L, "%d trailing bytes after the msgpack value", (int)(d->end - d->p));
    return 1;
}

int lt_decode(lua_State *L, const void *data, size_t len, char *err, size_t errlen) {
    if (!data || len == 0) {
        lua_pushnil(L); /* an absent payload is nil */
        return 0;
    }
    dec d = {(const uint8_t *)data, (const uint8_t *)data + len};
    if (!lua_checkstack(L, 4)) {
        snprintf(err, errlen, "Lua stack overflow decoding a payload");
        return -1;
    }
    lua_pushcfunction(L, dec_protected);
    lua_pushlightuserdata(L, &d);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "cannot decode payload: %s", m ? m : "?");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int lt_push_buf(lua_State *L, tr_buf_t *b, char *err, size_t errlen) {
    int rc = lt_decode(L, b->data, b->len, err, errlen);
    tr_buf_release(b);
    return rc;
}

/* ---- Lua functions --------------------------------------------------------- */

/* encode(v [, as_map]) -> msgpack string; raises on values that cannot be sent */
static int l_encode(lua_State *L) {
    luaL_checkany(L, 1);
    lt_wbuf b = {0};
    char err[400];
    if (lt_encode_opt(L, 1, &b, "value", lua_toboolean(L, 2), err, sizeof err))
        return luaL_error(L, "%s", err);
    lua_pushlstring(L, b.p ? b.p : "", b.len);
    lt_wbuf_free(&b);
    return 1;
}

/* decode(s) -> value; raises on malformed input */
static int l_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char err[300];
    if (n == 0) return luaL_error(L, "cannot decode an empty string");
    if (lt_decode(L, s, n, err, sizeof err)) return luaL_error(L, "%s", err);
    return 1;
}

static int l_utf8_valid(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_pushboolean(L, lt_utf8_valid(s, n));
    return 1;
}

int lt_value_open(lua_State *L) {
    /* marker metatables, shared through the registry */
    lua_newtable(L);
    lua_pushliteral(L, "tractor.bin");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, LUA_REGISTRYINDEX, LT_BIN_MT);
    lua_newtable(L);
    lua_pushliteral(L, "tractor.map");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, LUA_REGISTRYINDEX, LT_MAP_MT);
    static const luaL_Reg fns[] = {{"encode", l_encode},
                                   {"decode", l_decode},
                                   {"utf8_valid", l_utf8_valid},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, LT_BIN_MT);
    lua_setfield(L, -2, "bin_mt");
    lua_getfield(L, LUA_REGISTRYINDEX, LT_MAP_MT);
    lua_setfield(L, -2, "map_mt");
    return 0;
}
