/* testmod: C functions served by child actors in the integration tests. */
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

static int64_t kw_int(tr_ctx_t *ctx, const char *key, int64_t dflt) {
    const void *buf;
    size_t len;
    tr_ctx_kwargs(ctx, &buf, &len);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t v = dflt;
    if (msgpack_unpack_next(&u, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
                !memcmp(kv->key.via.str.ptr, key, strlen(key))) {
                if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) v = (int64_t)kv->val.via.u64;
                else if (kv->val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) v = kv->val.via.i64;
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return v;
}

static void set_int(tr_ctx_t *ctx, int64_t v) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_int64(&pk, v);
    tr_ctx_set_result(ctx, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static int add(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    set_int(ctx, kw_int(ctx, "x", 0) + kw_int(ctx, "y", 0));
    return 0;
}

static int fail(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_error(ctx, "ValueError", "testmod.fail was asked to fail", NULL);
    return TR_EINVAL;
}

static int getpid_fn(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    set_int(ctx, getpid());
    return 0;
}

/* sleeps `ms` in cancellable steps (polling the cancel flag) */
static int sleep_ms(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t ms = kw_int(ctx, "ms", 1000);
    for (int64_t i = 0; i < ms; i += 5) {
        if (tr_ctx_cancel_called(ctx)) return TR_ECANCELLED;
        usleep(5000);
    }
    set_int(ctx, ms);
    return 0;
}

/* ignores cancellation entirely */
static int busy_forever(tr_ctx_t *ctx, void *ud) {
    (void)ctx;
    (void)ud;
    volatile unsigned long x = 0;
    for (;;) x++;
    return 0;
}

/* context: started(n), echo every value back until Stop, return count */
static int echo(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    if (kw_int(ctx, "allow", 0)) tr_ctx_set_overruns(ctx, 1, 0);
    uint8_t first = 0x2a; /* 42 */
    int rc = tr_ctx_started(ctx, &first, 1);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    int64_t n = 0;
    for (;;) {
        tr_buf_t b;
        rc = tr_stream_recv(s, &b, NULL, -1);
        if (rc == TR_EEOC) break;
        if (rc) {
            tr_stream_release(s);
            return rc;
        }
        rc = tr_stream_send(s, b.data, b.len, NULL);
        tr_buf_release(&b);
        if (rc) break;
        n++;
    }
    tr_stream_close(s);
    tr_stream_release(s);
    set_int(ctx, n);
    return 0;
}

/* context: started, then stream `count` ints, then return count */
static int producer(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t count = kw_int(ctx, "count", 10);
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int64_t i = 0; i < count && !rc; i++) {
        sb.size = 0;
        msgpack_pack_int64(&pk, i);
        rc = tr_stream_send(s, sb.data, sb.size, NULL);
    }
    msgpack_sbuffer_destroy(&sb);
    tr_stream_close(s);
    tr_stream_release(s);
    if (rc) return rc;
    set_int(ctx, count);
    return 0;
}

/* context: started, then wait in the stream until cancelled */
static int wait_in_stream(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    for (;;) {
        tr_buf_t b;
        rc = tr_stream_recv(s, &b, NULL, -1);
        if (rc) break;
        tr_buf_release(&b);
    }
    tr_stream_release(s);
    return rc == TR_EEOC ? 0 : rc;
}

/* context: started, sleep `ms` before reading, then count what arrives
 * (kwargs allow: let the buffer grow instead of overrunning) */
static int sleepy_reader(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    if (kw_int(ctx, "allow", 0)) tr_ctx_set_overruns(ctx, 1, 0);
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    usleep((useconds_t)kw_int(ctx, "ms", 300) * 1000);
    int64_t n = 0;
    for (;;) {
        tr_buf_t b;
        rc = tr_stream_recv(s, &b, NULL, -1);
        if (rc) break;
        tr_buf_release(&b);
        n++;
    }
    tr_stream_release(s);
    if (rc != TR_EEOC) return rc;
    set_int(ctx, n);
    return 0;
}

/* context: cancel ourselves after started */
static int self_cancel(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_ctx_cancel(ctx, "child decided to stop");
    tr_stream_t *s;
    tr_ctx_open_stream(ctx, &s);
    tr_buf_t b;
    rc = tr_stream_recv(s, &b, NULL, -1);
    tr_stream_release(s);
    return rc;
}

/* context: fail before started */
static int fail_before_started(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_error(ctx, "KeyError", "failed before started", NULL);
    return TR_EINVAL;
}

/* spawn a child that runs `testmod.fail` (depth > 1 relays) or spawn a
 * grandchild running `func` */
static int spawn_and_call(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t depth = kw_int(ctx, "depth", 1);
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_nursery_t *n;
    int rc = tr_nursery_open(rt, &n);
    if (rc) return rc;
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "testmod";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    char name[64];
    snprintf(name, sizeof name, "%s-sub", tr_runtime_name(rt));
    rc = tr_nursery_start_actor(n, name, &so, &p, &err, 10000);
    if (rc) {
        tr_nursery_close(n, 1, NULL);
        return rc;
    }
    tr_buf_t res;
    if (depth > 1) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        msgpack_pack_str_with_body(&pk, "depth", 5);
        msgpack_pack_int64(&pk, depth - 1);
        rc = tr_portal_run(p, "testmod", "spawn_and_call", sb.data, sb.size, &res, &err, -1);
        msgpack_sbuffer_destroy(&sb);
    } else {
        rc = tr_portal_run(p, "testmod", "fail", NULL, 0, &res, &err, -1);
    }
    if (rc == 0) {
        tr_ctx_set_result(ctx, res.data, res.len);
        tr_buf_release(&res);
    } else if (err) {
        tr_ctx_set_remote_error(ctx, err);
    }
    tr_error_free(err);
    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    tr_nursery_close(n, rc != 0, NULL);
    return rc;
}

/* spawn a grandchild that busy-loops forever, then wait to be cancelled */
static int spawn_stuck_grandchild(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_nursery_t *n;
    int rc = tr_nursery_open(rt, &n);
    if (rc) return rc;
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "testmod";
    tr_portal_t *p;
    rc = tr_nursery_start_actor(n, "stuck", &so, &p, NULL, 10000);
    if (rc == 0) {
        tr_ctx_t *c;
        tr_portal_start_call(p, "testmod", "busy_forever", NULL, 0, &c);
        set_int(ctx, tr_portal_pid(p));
        /* report the grandchild's pid through the result, then wait */
        tr_ctx_t *dummy = c;
        (void)dummy;
        while (!tr_ctx_cancel_called(ctx)) usleep(10000);
        tr_ctx_release(c);
        tr_portal_release(p);
    }
    tr_nursery_close(n, 1, NULL);
    return rc ? rc : TR_ECANCELLED;
}

/* find the actor called `target` through the registrar and cancel it */
static int cancel_peer(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    const void *buf;
    size_t len;
    tr_ctx_kwargs(ctx, &buf, &len);
    char name[128] = "";
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->val.type == MSGPACK_OBJECT_STR && kv->val.via.str.size < sizeof name) {
                memcpy(name, kv->val.via.str.ptr, kv->val.via.str.size);
                name[kv->val.via.str.size] = 0;
            }
        }
    msgpack_unpacked_destroy(&u);
    tr_portal_t *p;
    int rc = tr_find_actor(tr_ctx_runtime(ctx), name, &p, 5000);
    if (rc) {
        tr_ctx_set_error(ctx, "LookupError", "target not found in the registry", NULL);
        return rc;
    }
    rc = tr_portal_cancel_actor(p, 2000);
    tr_portal_release(p);
    return rc;
}

int tr_module_init_testmod(tr_runtime_t *rt) {
    int rc = 0;
    rc |= tr_register_func(rt, "testmod", "add", TR_FUNC_ASYNCFUNC, add, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "fail", TR_FUNC_ASYNCFUNC, fail, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "getpid", TR_FUNC_ASYNCFUNC, getpid_fn, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "sleep_ms", TR_FUNC_ASYNCFUNC, sleep_ms, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "busy_forever", TR_FUNC_ASYNCFUNC, busy_forever, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "echo", TR_FUNC_CONTEXT, echo, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "producer", TR_FUNC_CONTEXT, producer, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "wait_in_stream", TR_FUNC_CONTEXT, wait_in_stream, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "sleepy_reader", TR_FUNC_CONTEXT, sleepy_reader, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "self_cancel", TR_FUNC_CONTEXT, self_cancel, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "fail_before_started", TR_FUNC_CONTEXT, fail_before_started, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "spawn_and_call", TR_FUNC_ASYNCFUNC, spawn_and_call, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "spawn_stuck_grandchild", TR_FUNC_ASYNCFUNC, spawn_stuck_grandchild, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "cancel_peer", TR_FUNC_ASYNCFUNC, cancel_peer, NULL, NULL);
    rc |= tr_register_func(rt, "testmod", "typed", TR_FUNC_CONTEXT, echo, NULL, "int");
    return rc ? TR_EINVAL : 0;
}
