/* A small blocking tractor client on plain sockets: connect, Aid handshake,
 * one `self.*` call at a time. Used for the registrar-election probe and for
 * register/unregister at boot and teardown, where the runtime's portal
 * machinery cannot be used (not serving yet, or already cancelled). Every
 * step is bounded by a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/discovery/discovery.h"

static int ms_until(uint64_t deadline) {
    uint64_t now = tr__now_ns();
    if (deadline <= now) return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > 60000 ? 60000 : (int)ms;
}

static int wait_fd(int fd, short ev, uint64_t deadline) {
    for (;;) {
        int ms = ms_until(deadline);
        if (ms == 0) return TR_ETIMEDOUT;
        struct pollfd p = {fd, ev, 0};
        int n = poll(&p, 1, ms);
        if (n > 0) return 0;
        if (n == 0) continue; /* re-check the deadline */
        if (errno != EINTR) return TR_ETRANSPORT;
    }
}

static int send_all(tr__bconn_t *c, const uint8_t *p, size_t len, uint64_t deadline, char *why,
                    size_t wl);

int tr__bconn_open(tr__bconn_t *c, const tr__addr_t *a, const tr__aid_info_t *local,
                   uint32_t max_frame, uint64_t deadline, int *absent, char *why, size_t wl) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->max_frame = max_frame ? max_frame : TR__FRAME_MAX_DEFAULT;
    *absent = 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    int family;
    if (a->kind == TR__ADDR_TCP) {
        if (strchr(a->host, ':')) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)a->port);
            if (inet_pton(AF_INET6, a->host, &s6->sin6_addr) != 1) goto badaddr;
            sl = sizeof *s6;
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)a->port);
            if (inet_pton(AF_INET, a->host, &s4->sin_addr) != 1) goto badaddr;
            sl = sizeof *s4;
        }
        family = ss.ss_family;
    } else if (a->kind == TR__ADDR_UDS) {
        struct sockaddr_un *su = (struct sockaddr_un *)&ss;
        su->sun_family = AF_UNIX;
        char path[400];
        if (tr__addr_uds_path(a, path, sizeof path) || strlen(path) >= sizeof su->sun_path)
            goto badaddr;
        strcpy(su->sun_path, path);
        sl = sizeof *su;
        family = AF_UNIX;
    } else {
        goto badaddr;
    }
    c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(why, wl, "socket: %s", strerror(errno));
        return TR_ETRANSPORT;
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int rc = connect(c->fd, (struct sockaddr *)&ss, sl);
    if (rc != 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
        if ((rc = wait_fd(c->fd, POLLOUT, deadline)) != 0) {
            snprintf(why, wl, "connect timed out");
            tr__bconn_close(c);
            return rc;
        }
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
        errno = e;
        rc = e ? -1 : 0;
    }
    if (rc != 0) {
        int e = errno;
        *absent = e == ECONNREFUSED || e == ENOENT || e == ECONNRESET;
        snprintf(why, wl, "%s", e == ECONNREFUSED ? "connection refused"
                                : e == ENOENT     ? "no such socket file"
                                                  : strerror(e));
        tr__bconn_close(c);
        return TR_ETRANSPORT;
    }
    /* handshake: send our Aid, read theirs */
    tr__wbuf_t w;
    tr__wbuf_init(&w);
    tr__enc_aid(&w, tr__cstr(local->name), tr__cstr(local->uuid), local->pid,
                local->is_registrar, local->is_probe);
    rc = w.oom ? TR_ENOMEM : send_all(c, w.p, w.len, deadline, why, wl);
    tr__wbuf_free(&w);
    if (rc) {
        tr__bconn_close(c);
        return rc;
    }
    int garbage = 0;
    for (;;) {
        tr__msg_t m;
        char err[200];
        rc = tr__bconn_recv(c, &m, deadline, err, sizeof err);
        if (rc == TR_EPROTO && ++garbage <= 4) continue; /* skipped, as tractor */
        if (rc) {
            snprintf(why, wl, "no handshake: %s", err);
            tr__bconn_close(c);
            return rc == TR_ETIMEDOUT ? rc : TR_ETRANSPORT;
        }
        if (m.type != TR__MSG_AID) {
            snprintf(why, wl, "peer sent %s instead of an Aid handshake",
                     tr__msg_type_name(m.type));
            tr__bconn_close(c);
            return TR_ETRANSPORT;
        }
        snprintf(c->peer.name, sizeof c->peer.name, "%.*s", (int)m.u.aid.name.n, m.u.aid.name.p);
        snprintf(c->peer.uuid, sizeof c->peer.uuid, "%.*s", (int)m.u.aid.uuid.n, m.u.aid.uuid.p);
        c->peer.pid = m.u.aid.has_pid ? m.u.aid.pid : -1;
        c->peer.is_registrar = m.u.aid.is_registrar;
        c->peer.is_probe = m.u.aid.is_probe;
        return 0;
    }
badaddr: {
    char s[200];
    tr__addr_format(a, s, sizeof s);
    snprintf(why, wl, "unusable address %s", s);
    return TR_EADDR;
}
}

/* Read one frame and decode it. Slices in *m stay valid until the next
 * call. TR_EPROTO for an undecodable frame (the caller may skip it), else
 * TR_ETRANSPORT / TR_ETIMEDOUT. */
int tr__bconn_recv(tr__bconn_t *c, tr__msg_t *m, uint64_t deadline, char *why, size_t wl) {
    if (c->consumed) { /* drop the frame returned last time */
        memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
        c->len -= c->consumed;
        c->consumed = 0;
    }
    for (;;) {
        if (c->len >= 4) {
            uint32_t L = (uint32_t)c->buf[0] | (uint32_t)c->buf[1] << 8 |
                         (uint32_t)c->buf[2] << 16 | (uint32_t)c->buf[3] << 24;
            if (L > c->max_frame) {
                snprintf(why, wl, "frame too large (%u bytes)", L);
                return TR_ETRANSPORT;
            }
            if (c->len - 4 >= L) {
                c->consumed = 4 + (size_t)L;
                int rc = tr__msg_decode(c->buf + 4, L, m, why, wl);
                return rc == 0 ? 0 : TR_EPROTO;
            }
            if (c->cap < 4 + (size_t)L) {
                uint8_t *nb = realloc(c->buf, 4 + (size_t)L);
                if (!nb) {
                    snprintf(why, wl, "out of memory");
                    return TR_ETRANSPORT;
                }
                c->buf = nb;
                c->cap = 4 + (size_t)L;
            }
        }
        if (c->cap - c->len < 256) {
            size_t ncap = c->cap ? c->cap * 2 : 4096;
            uint8_t *nb = realloc(c->buf, ncap);
            if (!nb) {
                snprintf(why, wl, "out of memory");
                return TR_ETRANSPORT;
            }
            c->buf = nb;
            c->cap = ncap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            snprintf(why, wl, "peer closed the connection");
            return TR_ETRANSPORT;
        }
        if (errno == EAGAIN || errno == EINTR) {
            int rc = wait_fd(c->fd, POLLIN, deadline);
            if (rc) {
                snprintf(why, wl, "timed out waiting for the peer");
                return rc;
            }
            continue;
        }
        snprintf(why, wl, "read failed: %s", strerror(errno));
        return TR_ETRANSPORT;
    }
}

static int send_all(tr__bconn_t *c, const uint8_t *p, size_t len, uint64_t deadline, char *why,
                    size_t wl) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c->fd, POLLOUT, deadline) == 0) continue;
            snprintf(why, wl, "send timed out");
            return TR_ETIMEDOUT;
        }
        snprintf(why, wl, "send failed: %s", strerror(errno));
        return TR_ETRANSPORT;
    }
    return 0;
}

int tr__bconn_call(tr__bconn_t *c, const tr__aid_info_t *local, const char *func, const void *kw,
                   size_t kwlen, uint64_t deadline, char *why, size_t wl) {
    char cid[TR__CID_LEN + 1];
    tr__uuid4(cid);
    tr__wbuf_t w;
    tr__wbuf_init(&w);
    tr__uid_t uid = {tr__cstr(local->name), tr__cstr(local->uuid)};
    tr__enc_start(&w, tr__cstr(cid), TR__STR("self"), tr__cstr(func),
                  (tr__str_t){(const char *)kw, kw ? kwlen : 0}, uid, (tr__str_t){0});
    int rc = w.oom ? TR_ENOMEM : send_all(c, w.p, w.len, deadline, why, wl);
    tr__wbuf_free(&w);
    if (rc) return rc;
    for (;;) {
        tr__msg_t m;
        rc = tr__bconn_recv(c, &m, deadline, why, wl);
        if (rc == TR_EPROTO) continue;
        if (rc) return rc;
        if (!m.has_cid || !tr__str_eq(m.cid, cid)) continue;
        if (m.type == TR__MSG_STARTACK) continue;
        if (m.type == TR__MSG_RETURN) return 0;
        if (m.type == TR__MSG_ERROR) {
            snprintf(why, wl, "%.*s: %.*s", (int)m.u.error.boxed_type_str.n,
                     m.u.error.boxed_type_str.p,
                     m.u.error.has_message ? (int)m.u.error.message.n : 0,
                     m.u.error.has_message ? m.u.error.message.p : "");
            return TR_EREMOTE;
        }
    }
}

void tr__bconn_close(tr__bconn_t *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = c->consumed = 0;
}

/* ---- the election probe -------------------------------------------------- */

int tr__probe(const tr__addr_t *a, uint32_t max_frame, tr__aid_info_t *peer, char *why,
              size_t wl) {
    tr__aid_info_t me;
    memset(&me, 0, sizeof me);
    snprintf(me.name, sizeof me.name, "registry-probe");
    tr__uuid4(me.uuid);
    me.pid = getpid();
    me.is_registrar = 0;
    me.is_probe = 1;
    if (peer) memset(peer, 0, sizeof *peer);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt) {
            struct timespec ts = {0, 50000000L * attempt}; /* back-off 0.05 x n s */
            nanosleep(&ts, NULL);
        }
        tr__bconn_t c;
        int absent;
        int rc = tr__bconn_open(&c, a, &me, max_frame, tr__now_ns() + 1000000000ull, &absent,
                                why, wl);
        if (rc == TR_EADDR) return TR_EADDR;
        if (rc && absent) return TR__PROBE_ABSENT;
        if (rc) continue; /* no (complete) handshake: try again */
        if (peer) *peer = c.peer;
        tr__bconn_close(&c);
        /* tractor: "is_registrar is not False" */
        if (c.peer.is_registrar != 0) return TR__PROBE_REGISTRAR;
        snprintf(why, wl, "the actor listening there ('%s', pid %lld) is not a registrar",
                 c.peer.name, (long long)c.peer.pid);
        return TR__PROBE_OCCUPIED;
    }
    return TR__PROBE_OCCUPIED; /* something listens but never completed a handshake */
}
