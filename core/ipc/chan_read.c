/* The read side of a channel (chan_read.c): the read set, refcounted read
 * chunks, framing, decoding and delivery, and leaders (tr__chan_lead).
 *
 * Reads land in refcounted chunks; each complete frame is decoded in place
 * and handed up with slices into the chunk (zero-copy). */
#include "core/ipc/ipc.h"
#include "core/ipc/chan_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

/* ---- the read set --------------------------------------------------------- */

/* (Re)arm or disarm a channel's socket in the read set; one-shot either way,
 * so the I/O thread is told at most once per arming. */
static int rset_mod(tr__chan_t *c, uint32_t events) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events | EPOLLONESHOT;
    ev.data.ptr = c;
    return epoll_ctl(c->rset->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* ---- reading ------------------------------------------------------------ */

/* A chunk of at least `cap` bytes for reading: a spare nobody else holds
 * any more, else a new one. */
static tr__chunk_t *chunk_get(tr__chan_t *c, size_t cap) {
    for (size_t i = 0; i < TR__NSPARE; i++) {
        tr__chunk_t *s = c->spare[i];
        if (s && s->cap >= cap &&
            atomic_load_explicit(&s->refs, memory_order_acquire) == 1) {
            c->spare[i] = NULL;
            s->len = 0;
            return s;
        }
    }
    if (cap < TR__CHUNK_DEFAULT) cap = TR__CHUNK_DEFAULT;
    else cap = (cap + TR__CHUNK_DEFAULT - 1) / TR__CHUNK_DEFAULT * TR__CHUNK_DEFAULT;
    return tr__chunk_new(cap);
}

/* Retire the chunk we read into until now: keep it as a spare (our
 * reference moves there) within TR__SPARE_BUDGET bytes of spares per
 * channel, dropping the spares most in use to make room. */
static void chunk_retire(tr__chan_t *c, tr__chunk_t *k) {
    if (!k) return;
    if (k->cap > TR__SPARE_BUDGET) {
        tr__chunk_release(k);
        return;
    }
    for (;;) {
        size_t total = k->cap, free_slot = TR__NSPARE, busiest = TR__NSPARE;
        for (size_t i = 0; i < TR__NSPARE; i++) {
            tr__chunk_t *s = c->spare[i];
            if (!s) {
                if (free_slot == TR__NSPARE) free_slot = i;
                continue;
            }
            total += s->cap;
            if (busiest == TR__NSPARE ||
                atomic_load(&s->refs) > atomic_load(&c->spare[busiest]->refs))
                busiest = i;
        }
        if (total <= TR__SPARE_BUDGET && free_slot != TR__NSPARE) {
            c->spare[free_slot] = k;
            return;
        }
        /* its readers free it when they are done */
        tr__chunk_release(c->spare[busiest]);
        c->spare[busiest] = NULL;
    }
}

/* Room to read into: the current chunk when the rest of a frame or
 * TR__CHUNK_MIN_FREE bytes fit, else a fresh or spare chunk the unparsed
 * bytes move to. NULL when out of memory. */
static uint8_t *read_room(tr__chan_t *c, size_t *room) {
    tr__chunk_t *k = c->rchunk;
    size_t pending = k ? k->len - c->rpos : 0;
    size_t need = TR__CHUNK_MIN_FREE;
    if (pending >= 4) {
        uint32_t L;
        memcpy(&L, k->data + c->rpos, 4); /* little-endian hosts only */
        if ((size_t)L + 4 > pending && L <= c->max_frame)
            need = (size_t)L + 4 - pending;
    }
    if (!k || k->cap - k->len < need) {
        /* reuse in place when nobody else holds the chunk */
        if (k && atomic_load(&k->refs) == 1 && c->rpos > 0 &&
            k->cap - pending >= need) {
            memmove(k->data, k->data + c->rpos, pending);
            k->len = pending;
            c->rpos = 0;
        } else {
            tr__chunk_t *n = chunk_get(c, pending + need);
            if (!n) return NULL;
            if (pending) memcpy(n->data, k->data + c->rpos, pending);
            n->len = pending;
            chunk_retire(c, k);
            c->rchunk = k = n;
            c->rpos = 0;
        }
    }
    *room = k->cap - k->len;
    return k->data + k->len;
}

/* Read token held: one read from the socket. 1 bytes came (*full when they
 * filled the room), 0 it would block, -1 EOF or an error, said in `why`. */
static int read_once(tr__chan_t *c, int *full, char *why, size_t whylen) {
    for (;;) {
        size_t room;
        uint8_t *p = read_room(c, &room);
        if (!p) {
            snprintf(why, whylen, "out of memory reading a frame");
            return -1;
        }
        ssize_t n = read(c->fd, p, room);
        if (n > 0) {
            c->rchunk->len += (size_t)n;
            *full = (size_t)n == room;
            return 1;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        size_t pending = c->rchunk ? c->rchunk->len - c->rpos : 0;
        if (n == 0 && pending)
            snprintf(why, whylen,
                     "peer closed the connection mid-frame (%zu bytes of a frame unread)",
                     pending);
        else if (n == 0)
            snprintf(why, whylen, "peer closed the connection (EOF)");
        else if (errno == ECONNRESET)
            snprintf(why, whylen, "connection reset by peer");
        else
            snprintf(why, whylen, "read failed: %s", uv_err_name(-errno));
        return -1;
    }
}

void tr__chan_handshake_fail(tr__chan_t *c, const char *why) {
    char r[160];
    snprintf(r, sizeof r, "Peer sent an invalid actor handshake! (%s)", why);
    tr__chan_set_reason(c, r);
    tr__chan_close_now(c);
}

static void copy_str(char *dst, size_t cap, tr__str_t s) {
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = 0;
}

/* One decoded frame (rc = its decode result, err its message). */
static void deliver(tr__chan_t *c, tr__str_t body, int rc, const tr__msg_t *m,
                    const char *err) {
    if (!c->handshaken) {
        if (rc != 0) {
            tr__chan_handshake_fail(c, err);
            return;
        }
        if (m->type != TR__MSG_AID) {
            char e2[200];
            snprintf(e2, sizeof e2, "first frame is %s, not Aid", tr__msg_type_name(m->type));
            tr__chan_handshake_fail(c, e2);
            return;
        }
        copy_str(c->peer.name, sizeof c->peer.name, m->u.aid.name);
        copy_str(c->peer.uuid, sizeof c->peer.uuid, m->u.aid.uuid);
        c->peer.pid = m->u.aid.has_pid ? m->u.aid.pid : -1;
        c->peer.is_registrar = m->u.aid.is_registrar;
        c->peer.is_probe = m->u.aid.is_probe;
        c->handshaken = 1;
        uv_timer_stop(&c->hs_timer);
        if (c->cbs->on_handshake && c->cbs->on_handshake(c) != 0) {
            tr__chan_set_reason(c, "handshake refused");
            tr__chan_close(c, 1, NULL);
        }
        return;
    }
    if (rc != 0) {
        if (c->cbs->on_bad_frame) c->cbs->on_bad_frame(c, rc, err, body);
        return;
    }
    c->cbs->on_msg(c, m, c->rchunk, body);
}

/* What a leader may deliver: frames for a context, whose delivery only
 * queues and wakes under the runtime lock. Everything else (Start, a
 * channel-wide Error, bad frames...) is the I/O thread's. */
static int leader_may_deliver(const tr__msg_t *m) {
    switch (m->type) {
    case TR__MSG_YIELD:
    case TR__MSG_STOP:
    case TR__MSG_STARTED:
    case TR__MSG_RETURN:
    case TR__MSG_STARTACK:
    case TR__MSG_CANCELACK:
        return 1;
    case TR__MSG_ERROR:
        return m->has_cid;
    default:
        return 0;
    }
}

/* Read token held: decode and deliver every complete frame buffered. A
 * leader (lead=1) stops before a frame it may not deliver and returns 1. */
static int parse_frames(tr__chan_t *c, int lead) {
    tr__chunk_t *k = c->rchunk;
    while (k && atomic_load_explicit(&c->reading, memory_order_relaxed) && !c->closed) {
        size_t avail = k->len - c->rpos;
        if (avail < 4) break;
        uint8_t *p = k->data + c->rpos;
        uint32_t L = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (L > c->max_frame) {
            if (lead) return 1;
            char r[160];
            snprintf(r, sizeof r,
                     "frame too large: declared %u bytes, maximum is %u",
                     L, c->max_frame);
            tr__chan_set_reason(c, r);
            tr__chan_close_now(c);
            return 0;
        }
        if (avail - 4 < L) break;
        tr__str_t body = {(const char *)p + 4, L};
        tr__msg_t m;
        char err[200];
        int rc = tr__msg_decode(body.p, body.n, &m, err, sizeof err);
        if (lead && (rc != 0 || !c->handshaken || !leader_may_deliver(&m))) return 1;
        c->rpos += 4 + (size_t)L;
        tr__chunk_retain(k); /* keep it alive across the callback */
        deliver(c, body, rc, &m, err);
        tr__chunk_release(k);
        k = c->rchunk;
    }
    if (k && c->rpos == k->len && atomic_load(&k->refs) == 1) {
        k->len = 0; /* nothing else points into it: reuse from the start */
        c->rpos = 0;
    }
    return 0;
}

/* I/O thread, read token held: deliver what is buffered, then read until
 * the socket would block (at most 16 reads, for fairness), then re-arm. */
static void io_read(tr__chan_t *c) {
    const tr__chan_cbs_t *cbs = c->cbs;
    char why[160];
    int rc = 1;
    if (cbs && cbs->on_batch) cbs->on_batch(c, 1);
    parse_frames(c, 0);
    for (int i = 0; i < 16 && !c->closed && atomic_load(&c->reading); i++) {
        int full = 0;
        rc = read_once(c, &full, why, sizeof why);
        if (rc <= 0) break;
        parse_frames(c, 0);
        if (!full) break;
    }
    if (cbs && cbs->on_batch) cbs->on_batch(c, 0);
    if (rc < 0 && !c->closed) {
        tr__chan_set_reason(c, why);
        tr__chan_close_now(c);
    }
    if (!c->closed && atomic_load(&c->reading) && rset_mod(c, EPOLLIN) != 0) {
        tr__chan_set_reason(c, "could not poll the socket");
        tr__chan_close_now(c);
    }
}

/* I/O thread: the read set says this socket is readable. */
static void io_readable(tr__chan_t *c) {
    if (c->closed || !atomic_load(&c->reading)) return;
    int none = TR__ROWNER_NONE;
    if (!atomic_compare_exchange_strong(&c->rowner, &none, TR__ROWNER_IO))
        return; /* a leader reads it now, and re-arms it when done */
    io_read(c);
    atomic_store(&c->rowner, TR__ROWNER_NONE);
}

static void on_rset(uv_poll_t *p, int status, int events) {
    (void)status;
    (void)events;
    tr__rset_t *rs = p->data;
    struct epoll_event ev[64];
    int n = epoll_wait(rs->epfd, ev, 64, 0);
    /* a channel closed by an earlier one in this batch is still allocated:
     * channels are freed from a uv close callback, after this */
    for (int i = 0; i < n; i++) io_readable(ev[i].data.ptr);
}

int tr__rset_init(uv_loop_t *loop, tr__rset_t *rs) {
    rs->loop = loop;
    rs->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (rs->epfd < 0) return TR_EIO;
    if (uv_poll_init(loop, &rs->poll, rs->epfd) != 0) {
        close(rs->epfd);
        rs->epfd = -1;
        return TR_EIO;
    }
    rs->poll.data = rs;
    uv_poll_start(&rs->poll, UV_READABLE, on_rset);
    return 0;
}

void tr__rset_free(tr__rset_t *rs) {
    if (rs->epfd >= 0) close(rs->epfd);
    rs->epfd = -1;
}

void tr__chan_service(tr__chan_t *c) {
    if (atomic_load(&c->kick)) {
        int none = TR__ROWNER_NONE;
        if (atomic_compare_exchange_strong(&c->rowner, &none, TR__ROWNER_IO)) {
            atomic_store(&c->kick, 0);
            if (c->lead_err[0] && !c->closed) {
                tr__chan_set_reason(c, c->lead_err);
                tr__chan_close_now(c);
            } else if (!c->closed && atomic_load(&c->reading)) {
                io_read(c);
            }
            atomic_store(&c->rowner, TR__ROWNER_NONE);
        }
    }
    if (atomic_load(&c->close_pending)) tr__chan_close_stream(c);
    if (!c->closed) tr__chan_flush(c);
}

int tr__chan_lead(tr__chan_t *c, int wake_fd, uint64_t deadline, atomic_int *done) {
    if (c->closed || !c->handshaken || !atomic_load(&c->reading) || atomic_load(&c->kick) ||
        atomic_load(&c->close_pending))
        return TR_EAGAIN;
    int none = TR__ROWNER_NONE;
    if (!atomic_compare_exchange_strong(&c->rowner, &none, TR__ROWNER_LEADER)) return TR_EAGAIN;
    atomic_store(&c->lead_efd, wake_fd);
    /* re-checked with the token held: the I/O thread either sees us or we
     * see its close request (both sides are sequentially consistent) */
    if (atomic_load(&c->close_pending) || c->closed || !atomic_load(&c->reading)) {
        atomic_store(&c->lead_efd, -1);
        atomic_store(&c->rowner, TR__ROWNER_NONE);
        if (atomic_load(&c->close_pending)) tr__chan_request_flush(c);
        return TR_EAGAIN;
    }
    rset_mod(c, 0); /* the I/O thread stays out while we read */
    int rc = 0, handback = 0;
    char why[120];
    for (;;) {
        int full = 0;
        int n = read_once(c, &full, why, sizeof why);
        if (n > 0) {
            if (c->cbs->on_batch) c->cbs->on_batch(c, 1);
            int stop = parse_frames(c, 1);
            if (c->cbs->on_batch) c->cbs->on_batch(c, 0);
            if (stop) {
                handback = 1;
                break;
            }
            if (atomic_load(done)) break;
            continue;
        }
        if (n < 0) {
            snprintf(c->lead_err, sizeof c->lead_err, "%s", why);
            handback = 1;
            break;
        }
        if (atomic_load(done) || atomic_load(&c->close_pending)) break;
        struct pollfd pf[2] = {{c->fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
        struct timespec ts, *tsp = NULL;
        if (deadline != UINT64_MAX) {
            uint64_t now = tr__now_ns();
            if (now >= deadline) {
                rc = TR_ETIMEDOUT;
                break;
            }
            uint64_t left = deadline - now;
            ts.tv_sec = (time_t)(left / 1000000000ull);
            ts.tv_nsec = (long)(left % 1000000000ull);
            tsp = &ts;
        }
        int pr = ppoll(pf, 2, tsp, NULL);
        if (pr < 0 && errno != EINTR) break;
        if (pr > 0 && pf[1].revents) {
            uint64_t v;
            ssize_t r = read(wake_fd, &v, sizeof v);
            (void)r;
            break;
        }
    }
    atomic_store(&c->lead_efd, -1);
    if (handback) atomic_store(&c->kick, 1);
    /* let go of the token before re-arming: an event the re-arm raises
     * must find the token free, or the I/O thread would drop it while we
     * still held it, and nobody would arm the socket again. (A leader that
     * takes the token in between disarms and re-arms it itself.) */
    atomic_store(&c->rowner, TR__ROWNER_NONE);
    if (!handback && !atomic_load(&c->close_pending) && !c->closed && atomic_load(&c->reading))
        rset_mod(c, EPOLLIN);
    if (handback || atomic_load(&c->close_pending)) tr__chan_request_flush(c);
    return rc;
}

void tr__chan_pause(tr__chan_t *c) {
    if (atomic_load(&c->reading) && !c->closed && c->in_rset) rset_mod(c, 0);
    atomic_store(&c->reading, 0);
}

void tr__chan_resume(tr__chan_t *c) {
    if (atomic_load(&c->reading) || c->closed) return;
    atomic_store(&c->reading, 1);
    if (!c->in_rset) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.ptr = c;
        if (epoll_ctl(c->rset->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            tr__chan_set_reason(c, "could not poll the socket");
            tr__chan_close_now(c);
            return;
        }
        c->in_rset = 1;
    }
    int none = TR__ROWNER_NONE;
    if (atomic_compare_exchange_strong(&c->rowner, &none, TR__ROWNER_IO)) {
        io_read(c); /* frames buffered while paused, then the socket; re-arms */
        atomic_store(&c->rowner, TR__ROWNER_NONE);
    }
}

