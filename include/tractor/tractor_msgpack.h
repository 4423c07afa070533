/*
 * tractor_msgpack.h — optional msgpack-c helpers for libtractor's C users.
 *
 * libtractor moves payloads as msgpack bytes (`const void *buf, size_t len`
 * in, tr_buf_t out) and does not care which library made them. This header
 * is a thin layer over msgpack-c (C API 4.0, Debian's libmsgpack-dev) for
 * the common cases: build a payload with a msgpack_packer writing into a
 * msgpack_sbuffer and pass `sbuf.data, sbuf.size`; read a received payload
 * into a msgpack_unpacked and look up map keys by name.
 *
 * Header-only: every helper is `static inline`, so libtractor.so's ABI never
 * depends on msgpack-c's structs, and a program that does not include this
 * file does not need msgpack-c. A program that does links with -lmsgpackc
 * (`pkg-config --libs msgpack`). Everything else is plain msgpack-c: use
 * msgpack_pack_map/array/int64/double/nil/... and msgpack_object directly.
 *
 * Conventions are tractor.h's: helpers that can fail return 0 or a negative
 * TR_E* code.
 *
 *     msgpack_sbuffer sb;
 *     msgpack_packer pk;
 *     tr_mp_init(&sb, &pk);
 *     msgpack_pack_map(&pk, 2);
 *     tr_mp_pack_kv_int(&pk, "x", 40);
 *     tr_mp_pack_kv_int(&pk, "y", 2);
 *     rc = tr_portal_run(p, "mymod", "add", sb.data, sb.size, &res, &err,
 *                        5000);
 *     msgpack_sbuffer_destroy(&sb);
 *
 *     msgpack_unpacked u;
 *     int64_t sum;
 *     if (tr_mp_unpack_buf(&res, &u) == 0 && tr_mp_as_int(&u.data, &sum) == 0)
 *         printf("%lld\n", (long long)sum);
 *     msgpack_unpacked_destroy(&u);
 *     tr_buf_release(&res);
 */
#ifndef TRACTOR_TRACTOR_MSGPACK_H
#define TRACTOR_TRACTOR_MSGPACK_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tractor/tractor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Building payloads                                                   */

/* Initialise `sbuf` (empty) and `pk` (writing into it). The caller owns the
 * buffer: hand `sbuf->data, sbuf->size` to tr_portal_run, tr_ctx_started,
 * tr_ctx_set_result, tr_stream_send, ... (they copy what they need), then
 * free it with msgpack_sbuffer_destroy(sbuf). Setting `sbuf->size = 0`
 * reuses the buffer for the next payload. Cannot fail (allocation happens
 * on the first write). */
static inline void tr_mp_init(msgpack_sbuffer *sbuf, msgpack_packer *pk) {
    msgpack_sbuffer_init(sbuf);
    msgpack_packer_init(pk, sbuf, msgpack_sbuffer_write);
}

/* Pack the NUL-terminated string `s` as a msgpack str (NULL packs nil).
 * Returns 0, or TR_ENOMEM when the packer's write callback fails (for an
 * sbuffer: out of memory). */
static inline int tr_mp_pack_str(msgpack_packer *pk, const char *s) {
    int rc = s ? msgpack_pack_str_with_body(pk, s, strlen(s))
               : msgpack_pack_nil(pk);
    return rc ? TR_ENOMEM : 0;
}

/* Pack one map entry: the str `key`, then the int `val`. Call
 * msgpack_pack_map(pk, n) first and then n entries. Returns 0 or TR_ENOMEM
 * (as tr_mp_pack_str). */
static inline int tr_mp_pack_kv_int(msgpack_packer *pk, const char *key,
                                    int64_t val) {
    if (tr_mp_pack_str(pk, key)) return TR_ENOMEM;
    return msgpack_pack_int64(pk, val) ? TR_ENOMEM : 0;
}

/* Pack one map entry: the str `key`, then the str `val` (NULL packs nil).
 * Returns 0 or TR_ENOMEM (as tr_mp_pack_str). */
static inline int tr_mp_pack_kv_str(msgpack_packer *pk, const char *key,
                                    const char *val) {
    if (tr_mp_pack_str(pk, key)) return TR_ENOMEM;
    return tr_mp_pack_str(pk, val);
}

/* ------------------------------------------------------------------ */
/* Reading payloads                                                    */

/* Unpack the one msgpack object in `buf`/`len` (a received payload, or the
 * kwargs of tr_ctx_kwargs) into `out`, which need not be initialised (an
 * object already in it is not freed: destroy it first). Whatever the result,
 * the caller frees `out` with msgpack_unpacked_destroy(). Str, bin and ext
 * bodies point into `buf`, not into `out`: keep the bytes (the tr_buf_t)
 * alive while you use them.
 * Returns 0; TR_EPROTO when the bytes are empty, truncated, not msgpack or
 * followed by trailing bytes (out->data is then nil); TR_ENOMEM. */
static inline int tr_mp_unpack(const void *buf, size_t len,
                               msgpack_unpacked *out) {
    msgpack_unpacked_init(out);
    if (!buf || !len) return TR_EPROTO;
    size_t off = 0;
    msgpack_unpack_return r =
        msgpack_unpack_next(out, (const char *)buf, len, &off);
    if (r == MSGPACK_UNPACK_SUCCESS && off == len) return 0;
    msgpack_unpacked_destroy(out);
    msgpack_unpacked_init(out);
    return r == MSGPACK_UNPACK_NOMEM_ERROR ? TR_ENOMEM : TR_EPROTO;
}

/* tr_mp_unpack() of a received buffer's bytes. `buf` stays owned by the
 * caller and must outlive the use of `out` (see above); release it with
 * tr_buf_release() afterwards. An empty buffer gives TR_EPROTO. */
static inline int tr_mp_unpack_buf(const tr_buf_t *buf, msgpack_unpacked *out) {
    return tr_mp_unpack(buf ? buf->data : NULL, buf ? buf->len : 0, out);
}

/* Callee side: tr_mp_unpack() of the served call's kwargs (a map; an empty
 * one when the caller passed none). The bytes belong to the context and
 * stay valid while the served function runs. Returns 0, TR_EINVAL (not a
 * callee context), TR_EPROTO or TR_ENOMEM; free `out` with
 * msgpack_unpacked_destroy() in every case. */
static inline int tr_mp_unpack_kwargs(tr_ctx_t *ctx, msgpack_unpacked *out) {
    const void *buf = NULL;
    size_t len = 0;
    int rc = tr_ctx_kwargs(ctx, &buf, &len);
    if (rc) {
        msgpack_unpacked_init(out);
        return rc;
    }
    return tr_mp_unpack(buf, len, out);
}

/* The value stored under the str key `key` in `map`, or NULL when `map` (or
 * `key`) is NULL, `map` is not a map, or no str key equals `key`. The
 * result points into `map` (same lifetime). */
static inline const msgpack_object *tr_mp_map_get(const msgpack_object *map,
                                                  const char *key) {
    if (!map || !key || map->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            (klen == 0 || !memcmp(k->via.str.ptr, key, klen)))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* The int `obj` as an int64_t in *out. Returns 0, or TR_EMSGTYPE (*out
 * untouched) when `obj` is NULL, not an integer, or above INT64_MAX. */
static inline int tr_mp_as_int(const msgpack_object *obj, int64_t *out) {
    if (obj && obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = obj->via.i64;
        return 0;
    }
    if (obj && obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        obj->via.u64 <= (uint64_t)INT64_MAX) {
        *out = (int64_t)obj->via.u64;
        return 0;
    }
    return TR_EMSGTYPE;
}

/* The str `obj`: *str points at its bytes (NOT NUL-terminated; they live in
 * the unpacked input bytes, see tr_mp_unpack) and *len is their count.
 * Returns 0, or TR_EMSGTYPE (outputs untouched) when `obj` is NULL or not a
 * str. */
static inline int tr_mp_as_str(const msgpack_object *obj, const char **str,
                               size_t *len) {
    if (!obj || obj->type != MSGPACK_OBJECT_STR) return TR_EMSGTYPE;
    *str = obj->via.str.ptr;
    *len = obj->via.str.size;
    return 0;
}

/* tr_mp_as_int() of map[key]. Returns 0; TR_ENOTFOUND when `map` is not a
 * map or has no such key; TR_EMSGTYPE when the value is not an int64. *out
 * is untouched on error, so a default may be stored there first. */
static inline int tr_mp_get_int(const msgpack_object *map, const char *key,
                                int64_t *out) {
    const msgpack_object *v = tr_mp_map_get(map, key);
    return v ? tr_mp_as_int(v, out) : TR_ENOTFOUND;
}

/* tr_mp_as_str() of map[key] (not NUL-terminated; printf it with "%.*s",
 * (int)len, str). Returns 0, TR_ENOTFOUND or TR_EMSGTYPE, as
 * tr_mp_get_int. */
static inline int tr_mp_get_str(const msgpack_object *map, const char *key,
                                const char **str, size_t *len) {
    const msgpack_object *v = tr_mp_map_get(map, key);
    return v ? tr_mp_as_str(v, str, len) : TR_ENOTFOUND;
}

#ifdef __cplusplus
}
#endif
#endif /* TRACTOR_TRACTOR_MSGPACK_H */
