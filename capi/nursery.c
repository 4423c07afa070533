/* The public layer: nurseries: spawning and supervising child actors.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/spawn/spawn.h"

void tr_spawn_opts_init(tr_spawn_opts_t *opts) {
    tr__spawn_opts_init(opts);
}

int tr_nursery_open(tr_runtime_t *rt, tr_nursery_t **out) {
    return tr__nursery_open(rt, out);
}

int tr_nursery_start_actor(tr_nursery_t *n, const char *name, const tr_spawn_opts_t *opts,
                           tr_portal_t **portal, tr_error_t **err, int timeout_ms) {
    return tr__nursery_start_actor(n, name, opts, portal, err, timeout_ms);
}

int tr_nursery_run_in_actor(tr_nursery_t *n, const char *name, const char *ns,
                            const char *func, const void *kwargs, size_t kwargs_len,
                            const tr_spawn_opts_t *opts, tr_portal_t **portal,
                            tr_error_t **err, int timeout_ms) {
    return tr__nursery_run_in_actor(n, name, ns, func, kwargs, kwargs_len, opts, portal, err, timeout_ms);
}

int tr_nursery_cancel(tr_nursery_t *n) {
    return tr__nursery_cancel(n);
}

int tr_nursery_close(tr_nursery_t *n, int block_error, tr_error_t **err) {
    return tr__nursery_close(n, block_error, err);
}

size_t tr_nursery_child_count(tr_nursery_t *n) {
    return tr__nursery_child_count(n);
}
