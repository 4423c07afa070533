/* The channel: its life (new, close), the Aid handshake, batched writes and
 * connect. Reading (the read set, framing, leaders) is in chan_read.c.
 *
 * Writes from any
 * thread append to `wq` under `wmu`; an idle channel (nothing queued, no
 * write in flight, no burst) is written directly from the sending thread to
 * save a thread hop, everything else is batched into one uv_write by the
 * I/O thread. */
#include "core/ipc/ipc.h"
#include "core/ipc/chan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

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

static void wake_leader(tr__chan_t *c) {
    int fd = atomic_load(&c->lead_efd);
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof one);
        (void)n;
    }
}

/* I/O thread: close the socket, once no leader reads it. A leader holding
 * the read token is woken instead, and hands the close back to us
 * (tr__chan_service) when it lets go: its fd number must not be reused
 * under it. */
void tr__chan_close_stream(tr__chan_t *c) {
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
    tr__chan_close_stream(c);
}

void tr__chan_close_now(tr__chan_t *c) {
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

void tr__chan_set_reason(tr__chan_t *c, const char *reason) {
    if (!c->close_reason[0])
        snprintf(c->close_reason, sizeof c->close_reason, "%s",
                 reason ? reason : "closed");
}

void tr__chan_close(tr__chan_t *c, int graceful, const char *reason) {
    if (c->closed) return;
    tr__chan_set_reason(c, reason);
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
    tr__chan_close_now(c);
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
        tr__chan_set_reason(c, status == UV_EPIPE || status == UV_ECONNRESET
                          ? "connection reset by peer (write failed)"
                          : "write failed");
        tr__chan_close_now(c);
    } else if (done_closing) {
        tr__chan_close_now(c);
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
    if (done_closing) tr__chan_close_now(c);
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

static void on_hs_timeout(uv_timer_t *t) {
    tr__chan_t *c = t->data;
    if (!c->handshaken) tr__chan_handshake_fail(c, "handshake timed out");
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
        tr__chan_set_reason(c, why);
        c->cbs = NULL; /* never reached the upper layer */
        tr__chan_close_now(c);
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
            tr__chan_close_now(c);
            free(cr);
            return TR_EADDR;
        }
    } else {
        char path[400];
        if (tr__addr_uds_path(a, path, sizeof path) != 0) {
            c->cbs = NULL;
            tr__chan_close_now(c);
            free(cr);
            return TR_EADDR;
        }
        uv_pipe_connect(&cr->req, &c->h.pipe, path, on_connected);
    }
    return 0;
}
