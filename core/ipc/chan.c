/* The channel: framing over a uv stream, the Aid handshake, batched writes.
 *
 * Reads land in refcounted chunks; each complete frame is decoded in place
 * and handed up with slices into the chunk (zero-copy). Writes from any
 * thread append to `wq` under `wmu`; an idle channel (nothing queued, no
 * write in flight, no burst) is written directly from the sending thread to
 * save a thread hop, everything else is batched into one uv_write by the
 * I/O thread. */
#include "core/ipc/ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

#define TR__CHUNK_DEFAULT (64 * 1024)
#define TR__CHUNK_MIN_FREE 4096
#define TR__NSPARE (sizeof(((tr__chan_t *)0)->spare) / sizeof(tr__chunk_t *))
#define TR__SPARE_BUDGET (4 * 1024 * 1024) /* spare chunk bytes kept per channel */
#define TR__BURST_NS 30000 /* sends closer than this are batched */

void (*tr__chan_request_flush)(tr__chan_t *c);
_Thread_local int tr__chan_on_io_thread;

uint64_t tr__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

tr__chunk_t *tr__chunk_new(size_t cap) {
    tr__chunk_t *c = malloc(sizeof(*c) + cap);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->cap = cap;
    c->len = 0;
    return c;
}

void tr__chunk_release(tr__chunk_t *c) {
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        free(c);
}

tr__chan_t *tr__chan_new(tr__rset_t *rs, int kind, const tr__chan_cbs_t *cbs,
                         void *owner, const tr__aid_info_t *local,
                         uint32_t max_frame) {
    tr__chan_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    atomic_init(&c->refs, 1); /* the I/O thread's reference */
    c->loop = rs->loop;
    c->rset = rs;
    c->kind = kind;
    c->cbs = cbs;
    c->owner = owner;
    if (local) c->local = *local;
    c->max_frame = max_frame ? max_frame : 64u * 1024 * 1024;
    c->fd = -1;
    atomic_init(&c->rowner, TR__ROWNER_NONE);
    atomic_init(&c->reading, 0);
    atomic_init(&c->kick, 0);
    atomic_init(&c->close_pending, 0);
    atomic_init(&c->lead_efd, -1);
    pthread_mutex_init(&c->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wcond, &ca);
    pthread_condattr_destroy(&ca);
    tr__wbuf_init(&c->wq);
    tr__wbuf_init(&c->inflight);
    if (kind == TR__ADDR_TCP)
        uv_tcp_init(c->loop, &c->h.tcp);
    else
        uv_pipe_init(c->loop, &c->h.pipe, 0);
    c->h.stream.data = c;
    uv_timer_init(c->loop, &c->hs_timer);
    c->hs_timer.data = c;
    return c;
}

void tr__chan_retain(tr__chan_t *c) {
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void tr__chan_release(tr__chan_t *c) {
    if (!c) return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    tr__chunk_release(c->rchunk);
    for (size_t i = 0; i < TR__NSPARE; i++) tr__chunk_release(c->spare[i]);
    tr__wbuf_free(&c->wq);
    tr__wbuf_free(&c->inflight);
    pthread_mutex_destroy(&c->wmu);
    pthread_cond_destroy(&c->wcond);
    free(c);
}

int tr__chan_alive(tr__chan_t *c) {
    pthread_mutex_lock(&c->wmu);
    int ok = !c->closing && !c->broken;
    pthread_mutex_unlock(&c->wmu);
    return ok;
}

/* ---- closing ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h) {
    tr__chan_t *c = h->data;
    if (c->cbs && c->cbs->on_close) c->cbs->on_close(c, c->close_reason);
    tr__chan_release(c);
}

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

static void wake_leader(tr__chan_t *c) {
    int fd = atomic_load(&c->lead_efd);
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof one);
        (void)n;
    }
}

/* ---- closing ------------------------------------------------------------ */

/* I/O thread: close the socket, once no leader reads it. A leader holding
 * the read token is woken instead, and hands the close back to us
 * (tr__chan_service) when it lets go: its fd number must not be reused
 * under it. */
static void close_stream(tr__chan_t *c) {
    if (c->stream_closing || !c->timer_closed) return;
    atomic_store(&c->close_pending, 1);
    if (atomic_load(&c->rowner) == TR__ROWNER_LEADER) {
        wake_leader(c);
        return;
    }
    c->stream_closing = 1;
    if (c->in_rset) epoll_ctl(c->rset->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->in_rset = 0;
    uv_close((uv_handle_t *)&c->h.stream, on_handle_closed);
}

static void on_timer_closed(uv_handle_t *h) {
    tr__chan_t *c = h->data;
    c->timer_closed = 1;
    close_stream(c);
}

static void close_now(tr__chan_t *c) {
    if (c->closed) return;
    c->closed = 1;
    pthread_mutex_lock(&c->wmu);
    c->closing = 1;
    c->wq.len = 0;
    if (c->wwaiters) pthread_cond_broadcast(&c->wcond);
    pthread_mutex_unlock(&c->wmu);
    atomic_store(&c->reading, 0);
    uv_timer_stop(&c->hs_timer);
    uv_close((uv_handle_t *)&c->hs_timer, on_timer_closed);
}

static void set_reason(tr__chan_t *c, const char *reason) {
    if (!c->close_reason[0])
        snprintf(c->close_reason, sizeof c->close_reason, "%s",
                 reason ? reason : "closed");
}

void tr__chan_close(tr__chan_t *c, int graceful, const char *reason) {
    if (c->closed) return;
    set_reason(c, reason);
    pthread_mutex_lock(&c->wmu);
    c->closing = 1;
    int pending = c->in_flight || c->wq.len > 0;
    if (graceful && pending && !c->broken) {
        c->close_after_flush = 1;
        pthread_mutex_unlock(&c->wmu);
        tr__chan_flush(c);
        return;
    }
    pthread_mutex_unlock(&c->wmu);
    close_now(c);
}

/* ---- writing ------------------------------------------------------------ */

static void start_write_locked(tr__chan_t *c);

static void on_write(uv_write_t *req, int status) {
    tr__chan_t *c = req->data;
    int done_closing = 0;
    pthread_mutex_lock(&c->wmu);
    c->inflight.len = 0;
    c->in_flight = 0;
    if (status < 0) {
        c->broken = 1;
        c->wq.len = 0;
        if (c->wwaiters) pthread_cond_broadcast(&c->wcond);
    } else if (c->wq.len > 0) {
        start_write_locked(c);
    }
    if (c->close_after_flush && !c->in_flight) done_closing = 1;
    pthread_mutex_unlock(&c->wmu);
    if (status < 0 && !c->closed) {
        set_reason(c, status == UV_EPIPE || status == UV_ECONNRESET
                          ? "connection reset by peer (write failed)"
                          : "write failed");
        close_now(c);
    } else if (done_closing) {
        close_now(c);
    }
    tr__chan_release(c);
}

/* wmu held, on the I/O thread, !in_flight and wq non-empty */
static void start_write_locked(tr__chan_t *c) {
    tr__wbuf_t t = c->inflight;
    c->inflight = c->wq;
    c->wq = t;
    c->wq.len = 0;
    c->in_flight = 1;
    if (c->wwaiters) pthread_cond_broadcast(&c->wcond); /* room again */
    uv_buf_t b = uv_buf_init((char *)c->inflight.p, (unsigned)c->inflight.len);
    c->wreq.data = c;
    tr__chan_retain(c);
    int rc = uv_write(&c->wreq, &c->h.stream, &b, 1, on_write);
    if (rc < 0) {
        c->in_flight = 0;
        c->inflight.len = 0;
        c->broken = 1;
        tr__chan_release(c);
    }
}

void tr__chan_flush(tr__chan_t *c) {
    int done_closing = 0;
    pthread_mutex_lock(&c->wmu);
    c->flush_scheduled = 0;
    if (!c->closed && !c->in_flight && c->wq.len > 0 && !c->broken)
        start_write_locked(c);
    if (c->close_after_flush && !c->in_flight) done_closing = 1;
    pthread_mutex_unlock(&c->wmu);
    if (done_closing) close_now(c);
}

/* wmu held: bytes were appended at [off, wq.len). Direct write or schedule. */
static int push_locked(tr__chan_t *c, size_t off, int *need_wake) {
    int burst = 1;
    if (off == 0 && !c->in_flight && !c->flush_scheduled && c->fd >= 0) {
        /* idle channel: write now unless a thread's sends come in a burst
         * (the clock is read only here: while frames queue, the I/O thread
         * writes). The I/O thread's own frames (a StartAck, a CancelAck)
         * always go at once and do not count towards a burst, so the
         * Return a task sends right after its StartAck is not queued for
         * an I/O-thread wake-up. */
        if (tr__chan_on_io_thread) {
            burst = 0;
        } else {
            uint64_t now = tr__now_ns();
            burst = now - c->last_send_ns < TR__BURST_NS;
            c->last_send_ns = now;
        }
    }
    if (!burst) {
        ssize_t n = send(c->fd, c->wq.p, c->wq.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                c->broken = 1;
                c->wq.len = 0;
                *need_wake = 1; /* let the I/O thread notice and close */
                c->flush_scheduled = 1;
                return TR_ETRANSPORT;
            }
            n = 0;
        }
        if ((size_t)n == c->wq.len) {
            c->wq.len = 0;
            return 0;
        }
        memmove(c->wq.p, c->wq.p + n, c->wq.len - (size_t)n);
        c->wq.len -= (size_t)n;
    }
    if (!c->flush_scheduled && !c->in_flight) {
        c->flush_scheduled = 1;
        *need_wake = 1;
    }
    return 0;
}

/* wmu held: encode one frame into wq and get it going. */
static int send_enc_locked(tr__chan_t *c, tr__enc_fn enc, void *arg, int *need_wake) {
    if (c->closing || c->broken) return TR_ETRANSPORT;
    size_t off = c->wq.len;
    enc(&c->wq, arg);
    if (c->wq.oom) {
        c->wq.oom = 0;
        c->wq.len = off;
        return TR_ENOMEM;
    }
    return push_locked(c, off, need_wake);
}

int tr__chan_send_enc(tr__chan_t *c, tr__enc_fn enc, void *arg) {
    int need_wake = 0;
    pthread_mutex_lock(&c->wmu);
    int rc = send_enc_locked(c, enc, arg, &need_wake);
    pthread_mutex_unlock(&c->wmu);
    if (need_wake && tr__chan_request_flush) tr__chan_request_flush(c);
    return rc;
}

int tr__chan_send_enc_flow(tr__chan_t *c, tr__enc_fn enc, void *arg, int (*stop)(void *),
                           void *sarg) {
    int need_wake = 0, rc;
    pthread_mutex_lock(&c->wmu);
    while (c->wq.len >= TR__WQ_HIGH && !c->closing && !c->broken) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        c->wwaiters++;
        pthread_cond_timedwait(&c->wcond, &c->wmu, &ts);
        c->wwaiters--;
        if (stop) {
            pthread_mutex_unlock(&c->wmu);
            if ((rc = stop(sarg)) != 0) return rc;
            pthread_mutex_lock(&c->wmu);
        }
    }
    rc = send_enc_locked(c, enc, arg, &need_wake);
    pthread_mutex_unlock(&c->wmu);
    if (need_wake && tr__chan_request_flush) tr__chan_request_flush(c);
    return rc;
}

struct raw_frame {
    const void *p;
    size_t n;
};
static void enc_raw(tr__wbuf_t *b, void *arg) {
    struct raw_frame *f = arg;
    tr__wbuf_put(b, f->p, f->n);
}

int tr__chan_send_frame(tr__chan_t *c, const void *frame, size_t len) {
    struct raw_frame f = {frame, len};
    return tr__chan_send_enc(c, enc_raw, &f);
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

static void handshake_fail(tr__chan_t *c, const char *why) {
    char r[160];
    snprintf(r, sizeof r, "Peer sent an invalid actor handshake! (%s)", why);
    set_reason(c, r);
    close_now(c);
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
            handshake_fail(c, err);
            return;
        }
        if (m->type != TR__MSG_AID) {
            char e2[200];
            snprintf(e2, sizeof e2, "first frame is %s, not Aid", tr__msg_type_name(m->type));
            handshake_fail(c, e2);
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
            set_reason(c, "handshake refused");
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
            set_reason(c, r);
            close_now(c);
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
        set_reason(c, why);
        close_now(c);
    }
    if (!c->closed && atomic_load(&c->reading) && rset_mod(c, EPOLLIN) != 0) {
        set_reason(c, "could not poll the socket");
        close_now(c);
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
                set_reason(c, c->lead_err);
                close_now(c);
            } else if (!c->closed && atomic_load(&c->reading)) {
                io_read(c);
            }
            atomic_store(&c->rowner, TR__ROWNER_NONE);
        }
    }
    if (atomic_load(&c->close_pending)) close_stream(c);
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
            set_reason(c, "could not poll the socket");
            close_now(c);
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

static void on_hs_timeout(uv_timer_t *t) {
    tr__chan_t *c = t->data;
    if (!c->handshaken) handshake_fail(c, "handshake timed out");
}

struct aid_arg {
    const tr__aid_info_t *a;
};
static void enc_aid(tr__wbuf_t *b, void *arg) {
    const tr__aid_info_t *a = ((struct aid_arg *)arg)->a;
    tr__enc_aid(b, tr__cstr(a->name), tr__cstr(a->uuid), a->pid,
                a->is_registrar, a->is_probe);
}

int tr__chan_start(tr__chan_t *c, int hs_timeout_ms) {
    if (uv_fileno((uv_handle_t *)&c->h.stream, &c->fd) != 0) c->fd = -1;
    if (c->kind == TR__ADDR_TCP) uv_tcp_nodelay(&c->h.tcp, 1);
    struct aid_arg a = {&c->local};
    /* queue our Aid; the I/O thread flushes it below */
    pthread_mutex_lock(&c->wmu);
    enc_aid(&c->wq, &a);
    pthread_mutex_unlock(&c->wmu);
    tr__chan_flush(c);
    if (hs_timeout_ms > 0)
        uv_timer_start(&c->hs_timer, on_hs_timeout, (uint64_t)hs_timeout_ms, 0);
    tr__chan_resume(c);
    return c->closed ? TR_ETRANSPORT : 0;
}

/* ---- connect ------------------------------------------------------------ */

struct conn_req {
    uv_connect_t req;
    tr__chan_t *c;
    tr__connect_cb cb;
    void *arg;
    int hs_timeout_ms;
};

static void on_connected(uv_connect_t *req, int status) {
    struct conn_req *cr = req->data;
    tr__chan_t *c = cr->c;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "connect failed: %s",
                 status == UV_ECONNREFUSED ? "connection refused"
                 : status == UV_ENOENT     ? "no such socket file"
                                           : uv_strerror(status));
        set_reason(c, why);
        c->cbs = NULL; /* never reached the upper layer */
        close_now(c);
        cr->cb(NULL, TR_ETRANSPORT, why, cr->arg);
        free(cr);
        return;
    }
    c->outbound = 1;
    cr->cb(c, 0, NULL, cr->arg);
    tr__chan_start(c, cr->hs_timeout_ms);
    free(cr);
}

int tr__chan_connect(tr__rset_t *rs, const tr__addr_t *a,
                     const tr__chan_cbs_t *cbs, void *owner,
                     const tr__aid_info_t *local, uint32_t max_frame,
                     int hs_timeout_ms, tr__connect_cb cb, void *arg) {
    struct conn_req *cr = calloc(1, sizeof(*cr));
    if (!cr) return TR_ENOMEM;
    tr__chan_t *c = tr__chan_new(rs, a->kind, cbs, owner, local, max_frame);
    if (!c) {
        free(cr);
        return TR_ENOMEM;
    }
    cr->c = c;
    cr->cb = cb;
    cr->arg = arg;
    cr->hs_timeout_ms = hs_timeout_ms;
    cr->req.data = cr;
    if (a->kind == TR__ADDR_TCP) {
        struct sockaddr_storage ss;
        int rc;
        if (strchr(a->host, ':'))
            rc = uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss);
        else
            rc = uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
        if (rc == 0)
            rc = uv_tcp_connect(&cr->req, &c->h.tcp, (struct sockaddr *)&ss,
                                on_connected);
        if (rc != 0) {
            c->cbs = NULL;
            close_now(c);
            free(cr);
            return TR_EADDR;
        }
    } else {
        char path[400];
        if (tr__addr_uds_path(a, path, sizeof path) != 0) {
            c->cbs = NULL;
            close_now(c);
            free(cr);
            return TR_EADDR;
        }
        uv_pipe_connect(&cr->req, &c->h.pipe, path, on_connected);
    }
    return 0;
}
