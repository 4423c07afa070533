/* Transports (TCP, UDS), framing, and the channel with its Aid handshake.
 * Internal. Everything here runs on the runtime's I/O thread except the
 * functions marked "any thread". No raw errno or libuv error escapes this
 * layer: every socket failure becomes TR_ETRANSPORT with a reason string. */
#ifndef TR_CORE_IPC_IPC_H
#define TR_CORE_IPC_IPC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "core/msg/msg.h"

/* ---- addresses: see core/ipc/addr.h ------------------------------------ */
#include "core/ipc/addr.h"

/* ---- read chunks: refcounted buffers that payload slices point into ---- */
typedef struct tr__chunk {
    atomic_int refs;
    size_t cap;
    size_t len; /* bytes filled */
    uint8_t data[];
} tr__chunk_t;

tr__chunk_t *tr__chunk_new(size_t cap);
static inline void tr__chunk_retain(tr__chunk_t *c) {
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}
void tr__chunk_release(tr__chunk_t *c);

/* ---- the read set --------------------------------------------------------- */
/* The read set: an epoll set of every channel's socket, armed one-shot,
 * that the I/O thread polls through one uv_poll handle. A channel's socket
 * is armed while the I/O thread reads it and disarmed while a waiting
 * thread reads it itself (tr__chan_lead). */
typedef struct tr__rset {
    uv_loop_t *loop; /* the I/O thread's loop */
    int epfd;
    uv_poll_t poll;
} tr__rset_t;

/* ---- channel ------------------------------------------------------------ */
typedef struct tr__chan tr__chan_t;

typedef struct tr__aid_info {
    char name[128];
    char uuid[64];
    int64_t pid;
    int is_registrar; /* TR__NIL, 0, 1 */
    int is_probe;
} tr__aid_info_t;

typedef struct tr__chan_cbs {
    /* handshake done: the peer's Aid is in chan->peer. Return non-zero to
     * refuse (the channel is closed). */
    int (*on_handshake)(tr__chan_t *c);
    /* one decoded frame; slices point into `chunk` (retain it to keep). */
    void (*on_msg)(tr__chan_t *c, const tr__msg_t *m, tr__chunk_t *chunk,
                   tr__str_t body);
    /* a frame that failed to decode (code TR_EPROTO / TR_EMSGTYPE). */
    void (*on_bad_frame)(tr__chan_t *c, int code, const char *why,
                         tr__str_t body);
    /* the channel is closed (after this, no more callbacks); `reason` says
     * why ("EOF", "connection reset", "frame too large: ...", ...). */
    void (*on_close)(tr__chan_t *c, const char *reason);
    /* optional: called with begin=1 before the frames of one read are
     * delivered and begin=0 after, so the owner can batch its wake-ups */
    void (*on_batch)(tr__chan_t *c, int begin);
} tr__chan_cbs_t;

struct tr__chan {
    atomic_int refs;
    uv_loop_t *loop;
    tr__rset_t *rset; /* where the I/O thread watches its socket */
    union {
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    int kind; /* TR__ADDR_TCP / UDS */
    int outbound; /* we connected */
    const tr__chan_cbs_t *cbs;
    void *owner; /* runtime data */
    void *user;  /* per-channel runtime state */

    tr__aid_info_t local; /* our Aid, sent first */
    tr__aid_info_t peer;  /* valid once handshaken */
    atomic_int handshaken; /* written on the I/O thread after `peer`; atomic
                              so other threads (tr__portal_connect_addr) may
                              poll it and then read `peer` */
    uv_timer_t hs_timer;
    uint32_t max_frame;

    /* reading: the read state below belongs to whoever holds the read
     * token `rowner` (the I/O thread, or a leader: see tr__chan_lead) */
    atomic_int rowner;      /* TR__ROWNER_* */
    tr__chunk_t *rchunk;
    size_t rpos; /* start of the unparsed bytes in rchunk */
    atomic_int reading;     /* frames are wanted (not paused, not closed) */
    int in_rset;            /* fd is in the read set (I/O thread) */
    /* chunks read earlier, kept (one reference each) for reuse once every
     * payload slice into them has been released: no malloc/free and no
     * fresh pages per chunk (token holder only) */
    tr__chunk_t *spare[4];
    /* leader hand-back: work a leader left to the I/O thread */
    atomic_int kick;          /* frames a leader may not deliver are buffered */
    atomic_int close_pending; /* the I/O thread wants to close the socket */
    atomic_int lead_efd;      /* the leader's wake-up eventfd, or -1 */
    char lead_err[120];       /* a read error the leader saw (under token) */
    int stream_closing;       /* uv_close of the stream started (I/O thread) */
    int timer_closed;

    /* writing (any thread, under wmu) */
    pthread_mutex_t wmu;
    tr__wbuf_t wq;       /* frames not yet handed to libuv */
    tr__wbuf_t inflight; /* frames handed to uv_write */
    int in_flight;
    int flush_scheduled;
    int closing;      /* no more sends accepted */
    int broken;       /* a send failed */
    uint64_t last_send_ns;
    uv_write_t wreq;
    pthread_cond_t wcond; /* room in wq again (tr__chan_send_enc_flow) */
    int wwaiters;
    uv_os_fd_t fd;
    tr__chan_t *next_dirty; /* runtime's flush list (under runtime lock) */

    atomic_int closed;      /* uv handle closed / closing (I/O thread) */
    char close_reason[160];
    uv_shutdown_t sreq;
    int close_after_flush;
};

enum { TR__ROWNER_NONE = 0, TR__ROWNER_IO = 1, TR__ROWNER_LEADER = 2 };

/* I/O thread. 0 or TR_EIO. */
int tr__rset_init(uv_loop_t *loop, tr__rset_t *rs);
/* After the loop is closed: close the epoll fd. */
void tr__rset_free(tr__rset_t *rs);
/* Set (to 1) by the runtime on its I/O thread. */
extern _Thread_local int tr__chan_on_io_thread;

/* Any thread but the I/O thread, no locks held, a reference to `c` held:
 * read and deliver this channel's frames on the calling thread instead of
 * the I/O thread ("leader/follower"), so a thread waiting for a reply is
 * woken by the socket itself rather than by the I/O thread (one wake-up
 * instead of two). Only context frames (Yield, Stop, Started, Return,
 * StartAck, CancelAck, Error with a cid) are delivered here; anything else
 * is left buffered for the I/O thread. Leads until `*done` is set, a byte
 * arrives on `wake_fd` (an eventfd, drained), or `deadline` (tr__now_ns
 * clock; UINT64_MAX = none) passes. Returns 0, TR_ETIMEDOUT, or TR_EAGAIN
 * when the channel cannot be led now (another thread reads it, it is
 * paused, closing or not handshaken): then wait the ordinary way. */
int tr__chan_lead(tr__chan_t *c, int wake_fd, uint64_t deadline, atomic_int *done);

/* I/O thread: a channel on the runtime's flush list: finish what a leader
 * handed back, then flush its writes. */
void tr__chan_service(tr__chan_t *c);

/* Hooks the channel uses to ask the I/O thread to flush it (any thread). */
typedef void (*tr__chan_wake_fn)(tr__chan_t *c);

/* Init a channel around a connected/accepted stream handle already
 * initialised on `loop` (h.tcp / h.pipe). Starts the handshake: sends our
 * Aid, reads the peer's, times out after hs_timeout_ms. */
int tr__chan_start(tr__chan_t *c, int hs_timeout_ms);
tr__chan_t *tr__chan_new(tr__rset_t *rs, int kind, const tr__chan_cbs_t *cbs,
                         void *owner, const tr__aid_info_t *local,
                         uint32_t max_frame);
void tr__chan_retain(tr__chan_t *c); /* any thread */
void tr__chan_release(tr__chan_t *c); /* any thread */

/* Stop/resume delivering frames (flow control / child boot). */
void tr__chan_pause(tr__chan_t *c);
void tr__chan_resume(tr__chan_t *c);

/* Any thread: append one complete frame and get it on the wire: written
 * directly when the channel is idle, otherwise batched for the I/O thread.
 * Returns 0 or TR_ETRANSPORT (closed/broken). `wake` is called (without
 * locks held) when the I/O thread must flush. */
typedef void (*tr__enc_fn)(tr__wbuf_t *b, void *arg);
int tr__chan_send_enc(tr__chan_t *c, tr__enc_fn enc, void *arg);
int tr__chan_send_frame(tr__chan_t *c, const void *frame, size_t len);
/* Any thread but the I/O thread, no locks held: tr__chan_send_enc with
 * flow control, for streams. First waits while TR__WQ_HIGH bytes or more
 * are queued behind the write in flight (the peer reads slower than we
 * send), so a fast sender's queue stays bounded and its buffers are reused
 * instead of growing. Every 10 ms (and when woken) `stop(sarg)` is asked
 * whether to give up; its non-zero return is returned (nothing sent). */
#define TR__WQ_HIGH (1024u * 1024u)
int tr__chan_send_enc_flow(tr__chan_t *c, tr__enc_fn enc, void *arg, int (*stop)(void *),
                           void *sarg);
/* Set by the runtime: how to wake the I/O thread for a flush. */
extern void (*tr__chan_request_flush)(tr__chan_t *c);

/* I/O thread: hand queued bytes to libuv. */
void tr__chan_flush(tr__chan_t *c);
/* I/O thread: close. graceful=1 flushes queued frames first. */
void tr__chan_close(tr__chan_t *c, int graceful, const char *reason);
/* Any thread: 1 when sends still work. */
int tr__chan_alive(tr__chan_t *c);

/* ---- connect / listen ------------------------------------------------- */
typedef void (*tr__connect_cb)(tr__chan_t *c, int status, const char *why,
                               void *arg);
/* I/O thread: connect to `a` and start a channel (handshake). cb(c, 0) once
 * the TCP/UDS connection is up (the handshake then proceeds and
 * on_handshake fires), or cb(NULL, TR_ETRANSPORT, why). */
int tr__chan_connect(tr__rset_t *rs, const tr__addr_t *a,
                     const tr__chan_cbs_t *cbs, void *owner,
                     const tr__aid_info_t *local, uint32_t max_frame,
                     int hs_timeout_ms, tr__connect_cb cb, void *arg);

typedef struct tr__listener {
    union {
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    tr__addr_t addr; /* the actual bound address (port filled in) */
    tr__rset_t *rset; /* accepted channels' read set (set by tr__listen) */
    const tr__chan_cbs_t *cbs;
    void *owner;
    const tr__aid_info_t *local;
    uint32_t max_frame;
    int hs_timeout_ms;
    void (*on_accept)(tr__chan_t *c); /* optional: a new channel exists */
    int active;
} tr__listener_t;

/* I/O thread: bind + listen. For UDS the socket file is created with the
 * parent dir checked (0700, ours); a stale file is replaced only when
 * nothing accepts on it. TR_EADDR with message on failure. */
int tr__listen(tr__rset_t *rs, tr__listener_t *l, const tr__addr_t *a,
               char *err, size_t errlen);
/* I/O thread: stop listening, unlink the UDS file. */
void tr__listener_close(tr__listener_t *l);

uint64_t tr__now_ns(void);

#endif
