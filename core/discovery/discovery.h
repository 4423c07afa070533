/* Discovery internals: the registry kept by a registrar, the blocking
 * registrar client used at boot/teardown, and address preference. Internal.
 * See docs/discovery.md. */
#ifndef TR_CORE_DISCOVERY_DISCOVERY_H
#define TR_CORE_DISCOVERY_DISCOVERY_H

#include "core/runtime/rt.h"

/* Values of tr_runtime_opts_t.enable_registrar (tr_registrar_mode_t). */
enum {
    TR__REGMODE_NONE = TR_REGISTRAR_NONE,
    TR__REGMODE_ELECT = TR_REGISTRAR_ELECT,
    TR__REGMODE_JOIN = TR_REGISTRAR_JOIN,
    TR__REGMODE_BECOME = TR_REGISTRAR_BECOME
};

#define TR__REG_DEFAULT_PORT 1616
#define TR__REG_MAX_ADDRS 16 /* addresses kept per uid / returned per query */

/* core/runtime/portal.c */
int tr__portal_connect_addr(tr_runtime_t *rt, const tr__addr_t *a,
                            tr_portal_t **out, int timeout_ms);

/* ---- the runtime's hooks into this layer (tr__rt_ops_t, installed by
 * capi/): election.c and registrar.c ------------------------------------ */
int tr__discovery_boot(tr_runtime_t *rt, const char *registry_addrs, char *err,
                       size_t errlen);
int tr__discovery_register_self(tr_runtime_t *rt);
void tr__discovery_unregister_self(tr_runtime_t *rt);
int tr__registrar_handle(tr_runtime_t *rt, tr__chan_t *chan,
                         const tr__msg_t *m); /* 1 when handled */
void tr__registrar_free(tr_runtime_t *rt);

/* ---- registry (registrar.c); every function takes rt->mu ------------- */

/* Add our own listening addresses (the registrar registers itself without
 * IPC). */
void tr__reg_local_register_self(tr_runtime_t *rt);
void tr__reg_local_unregister_self(tr_runtime_t *rt);
/* Addresses of the first uid called `name`: count (0 = none), up to cap. */
int tr__reg_local_find(tr_runtime_t *rt, const char *name, tr__addr_t *out,
                       int cap);
/* Wait (cancellable) until some uid called `name` is registered; then its
 * addresses as for find. 0 timeout polls. Returns count, or a TR_E* code. */
int tr__reg_local_wait(tr_runtime_t *rt, const char *name, tr__addr_t *out,
                       int cap, uint64_t deadline);
/* Remove a stale address. 1 when it was registered. */
int tr__reg_local_delete_addr(tr_runtime_t *rt, const tr__addr_t *a);
/* The registry map {"name.uuid": [addr, ...]} into a library buffer. */
int tr__reg_local_dump(tr_runtime_t *rt, tr_buf_t *out);

/* ---- blocking registrar client (bconn.c) -------------------------------
 * Plain sockets on the calling thread, bounded by a deadline (monotonic ns,
 * tr__now_ns): used for the election probe and for register/unregister,
 * which must work while the runtime is booting or already cancelled. */
typedef struct tr__bconn {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    size_t consumed; /* bytes of the frame returned last */
    uint32_t max_frame;
    tr__aid_info_t peer;
} tr__bconn_t;

/* Connect and do the Aid handshake with `local`. 0, or TR_ETRANSPORT
 * (*absent = 1 when nothing listens there: refused / no socket file),
 * TR_ETIMEDOUT. `why` says what went wrong. */
int tr__bconn_open(tr__bconn_t *c, const tr__addr_t *a,
                   const tr__aid_info_t *local, uint32_t max_frame,
                   uint64_t deadline, int *absent, char *why, size_t wl);
/* Read and decode the next frame (slices valid until the next call).
 * TR_EPROTO for an undecodable frame, else 0 / TR_ETRANSPORT / TR_ETIMEDOUT. */
int tr__bconn_recv(tr__bconn_t *c, tr__msg_t *m, uint64_t deadline, char *why,
                   size_t wl);
/* Start(ns='self', func, kwargs) and wait for StartAck + Return. 0, or
 * TR_EREMOTE (an Error; its message in why), TR_ETRANSPORT, TR_ETIMEDOUT. */
int tr__bconn_call(tr__bconn_t *c, const tr__aid_info_t *local,
                   const char *func, const void *kw, size_t kwlen,
                   uint64_t deadline, char *why, size_t wl);
void tr__bconn_close(tr__bconn_t *c);

/* Election probe results. */
enum { TR__PROBE_ABSENT = 0, TR__PROBE_REGISTRAR = 1, TR__PROBE_OCCUPIED = 2 };
/* Probe `a` (is_probe handshake, 1 s per attempt, up to 3 attempts). The
 * peer's Aid goes to *peer when one was received. */
int tr__probe(const tr__addr_t *a, uint32_t max_frame, tr__aid_info_t *peer,
              char *why, size_t wl);


/* ---- entry points of the public layer --------------------------------
 * capi/ defines each public tr_X over the tr__X here; the contract of each
 * (blocking, ownership, errors) is tr_X's comment in tractor/tractor.h. */
int tr__find_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms);
int tr__wait_for_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms);
int tr__query_actor(tr_runtime_t *rt, const char *name, char *buf, size_t buflen, int timeout_ms);
int tr__get_registry(tr_runtime_t *rt, tr_buf_t *out, int timeout_ms);

#endif
