/* Addresses: multiaddr text <-> tr__addr_t <-> tractor's 2-element wire
 * form, address preference, the UDS runtime directory. Internal; plain C
 * (no atomics), so C++ unit tests can include it. */
#ifndef TR_CORE_IPC_ADDR_H
#define TR_CORE_IPC_ADDR_H

#include <stddef.h>

#include "core/msg/mp.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { TR__ADDR_NONE = 0, TR__ADDR_TCP = 1, TR__ADDR_UDS = 2 };

typedef struct tr__addr {
    int kind;
    char host[64]; /* TCP host (IPv4 or IPv6 literal) or UDS directory */
    int port;      /* TCP port */
    char dir[256]; /* UDS directory */
    char file[108];/* UDS file name */
} tr__addr_t;

/* Parse "/ip4/H/tcp/P", "/ip6/H/tcp/P", "/unix/PATH", "unix://PATH", "H:P",
 * "[H]:P", "tcp://H:P" or an absolute UDS path. Hosts are IP literals (or
 * "localhost" = 127.0.0.1), stored in canonical text so equal addresses
 * compare equal. TR_EADDR with a message on failure. */
int tr__addr_parse(const char *s, tr__addr_t *out, char *err, size_t errlen);
/* Multiaddr text of `a` into buf (parses back to the same address). */
int tr__addr_format(const tr__addr_t *a, char *buf, size_t len);
/* Full UDS path dir/file into buf. */
int tr__addr_uds_path(const tr__addr_t *a, char *buf, size_t len);
/* The wire form: a 2-element msgpack array [host, port] or [dir, file]. */
void tr__addr_encode(tr__wbuf_t *b, const tr__addr_t *a);
int tr__addr_decode(tr__str_t raw, tr__addr_t *out);
int tr__addr_equal(const tr__addr_t *a, const tr__addr_t *b);

/* The UDS runtime directory: $XDG_RUNTIME_DIR/tractor or /tmp/tractor-<uid>,
 * created 0700; TR_EPERM when owned by someone else or too open. */
int tr__rt_dir(char *buf, size_t len, char *err, size_t errlen);

/* Preference tier when an actor has several addresses (tractor's
 * prefer_addr): 0 UDS, 1 loopback or local TCP, 2 remote. */
int tr__addr_tier(const tr__addr_t *a);
/* Stable sort by tier (at most 16 addresses are sorted). */
void tr__addr_sort_pref(tr__addr_t *v, int n);

/* Discovery (core/discovery/election.c): the registry addresses to use:
 * `list` (comma separated) if given, else $TRACTOR_REGISTRY_ADDR, else
 * tractor's default for `transport` (127.0.0.1:1616 or
 * <rt dir>/registry@1616.sock). At most `cap`. */
int tr__registry_addrs(const char *list, int transport, tr__addr_t *out,
                       int cap, int *n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
