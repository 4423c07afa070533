/* The public layer: discovery: finding actors through the registrar.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/discovery/discovery.h"

int tr_find_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    return tr__find_actor(rt, name, out, timeout_ms);
}

int tr_wait_for_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    return tr__wait_for_actor(rt, name, out, timeout_ms);
}

int tr_query_actor(tr_runtime_t *rt, const char *name, char *buf, size_t buflen,
                   int timeout_ms) {
    return tr__query_actor(rt, name, buf, buflen, timeout_ms);
}

int tr_get_registry(tr_runtime_t *rt, tr_buf_t *out, int timeout_ms) {
    return tr__get_registry(rt, out, timeout_ms);
}
