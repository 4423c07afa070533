/* The public layer: the runtime handle: opening, serving, waiting, cancelling and closing the actor of this process, and the functions it serves.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/discovery/discovery.h"
#include "core/runtime/rt.h"
#include "core/spawn/spawn.h"

/* The tree the public layer composes: the runtime, and spawn and discovery
 * above it, which the runtime reaches only through this table. */
static const tr__rt_ops_t tree_ops = {
    .on_handshake = tr__spawn_on_handshake,
    .on_chan_error = tr__spawn_on_chan_error,
    .on_chan_close = tr__spawn_on_chan_close,
    .children_kill_all = tr__children_kill_all,
    .nurseries_close_all = tr__nurseries_close_all,
    .discovery_boot = tr__discovery_boot,
    .register_self = tr__discovery_register_self,
    .unregister_self = tr__discovery_unregister_self,
    .registrar_handle = tr__registrar_handle,
    .registrar_free = tr__registrar_free,
};

void tr_runtime_opts_init(tr_runtime_opts_t *opts) {
    tr__runtime_opts_init(opts);
}

int tr_runtime_open(const tr_runtime_opts_t *opts, tr_runtime_t **out) {
    return tr__runtime_open(opts, &tree_ops, out);
}

size_t tr_runtime_enabled_module_count(tr_runtime_t *rt) {
    return tr__runtime_enabled_module_count(rt);
}

const char *tr_runtime_enabled_module(tr_runtime_t *rt, size_t i) {
    return tr__runtime_enabled_module(rt, i);
}

int tr_runtime_boot_failed(tr_runtime_t *rt, const char *type, const char *message,
                           const char *tb) {
    return tr__runtime_boot_failed(rt, type, message, tb);
}

int tr_runtime_serve(tr_runtime_t *rt) {
    return tr__runtime_serve(rt);
}

int tr_runtime_wait(tr_runtime_t *rt, int timeout_ms) {
    return tr__runtime_wait(rt, timeout_ms);
}

int tr_runtime_cancel(tr_runtime_t *rt) {
    return tr__runtime_cancel(rt);
}

int tr_runtime_cancelled(tr_runtime_t *rt) {
    return tr__runtime_cancelled(rt);
}

const char *tr_runtime_cancel_reason(tr_runtime_t *rt) {
    return tr__runtime_cancel_reason(rt);
}

int tr_runtime_close(tr_runtime_t *rt) {
    return tr__runtime_close(rt);
}

const char *tr_runtime_name(tr_runtime_t *rt) {
    return tr__runtime_name(rt);
}

const char *tr_runtime_uuid(tr_runtime_t *rt) {
    return tr__runtime_uuid(rt);
}

int tr_runtime_addr(tr_runtime_t *rt, char *buf, size_t buflen) {
    return tr__runtime_addr(rt, buf, buflen);
}

int tr_runtime_is_registrar(tr_runtime_t *rt) {
    return tr__runtime_is_registrar(rt);
}

int tr_runtime_is_child(tr_runtime_t *rt) {
    return tr__runtime_is_child(rt);
}

int tr_runtime_loglevel(tr_runtime_t *rt) {
    return tr__runtime_loglevel(rt);
}

int tr_runtime_fd(tr_runtime_t *rt) {
    return tr__runtime_fd(rt);
}

void tr_runtime_fd_clear(tr_runtime_t *rt) {
    tr__runtime_fd_clear(rt);
}

int tr_register_func(tr_runtime_t *rt, const char *ns, const char *name,
                     tr_functype_t kind, tr_func_t func, void *userdata,
                     const char *pld_spec) {
    return tr__register_func(rt, ns, name, kind, func, userdata, pld_spec);
}

int tr_load_c_module(tr_runtime_t *rt, const char *name, char *errbuf, size_t errlen) {
    return tr__load_c_module(rt, name, errbuf, errlen);
}

int tr_runtime_next_task(tr_runtime_t *rt, tr_ctx_t **ctx, int timeout_ms) {
    return tr__runtime_next_task(rt, ctx, timeout_ms);
}
