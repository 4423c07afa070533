/* Discovery hooks used by the runtime. The root serves as its tree's
 * registrar address book; children register with the addresses in their
 * SpawnSpec. (Full registrar election lives in issue #5.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

int tr__discovery_boot(tr_runtime_t *rt, const char *registry_addrs, char *err, size_t errlen) {
    (void)registry_addrs;
    (void)err;
    (void)errlen;
    rt->is_registrar = 0;
    return 0;
}

int tr__discovery_register_self(tr_runtime_t *rt) {
    (void)rt;
    return 0;
}

void tr__discovery_unregister_self(tr_runtime_t *rt) { (void)rt; }

int tr__registrar_handle(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m) {
    (void)rt;
    (void)chan;
    (void)m;
    return 0;
}

void tr__registrar_free(tr_runtime_t *rt) { (void)rt; }

int tr_find_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    (void)rt; (void)name; (void)out; (void)timeout_ms;
    return TR_ENOTFOUND;
}
int tr_wait_for_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    (void)rt; (void)name; (void)out; (void)timeout_ms;
    return TR_ENOTFOUND;
}
int tr_query_actor(tr_runtime_t *rt, const char *name, char *buf, size_t buflen, int timeout_ms) {
    (void)rt; (void)name; (void)buf; (void)buflen; (void)timeout_ms;
    return TR_ENOTFOUND;
}
int tr_get_registry(tr_runtime_t *rt, tr_buf_t *out, int timeout_ms) {
    (void)rt; (void)out; (void)timeout_ms;
    return TR_ENOTFOUND;
}
