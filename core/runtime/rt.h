/* Runtime internals shared by core/runtime, core/spawn, core/discovery and
 * capi. One big lock (rt->mu) guards all actor state; each channel has its
 * own write lock (order: rt->mu before chan->wmu, never the reverse). */
#ifndef TR_CORE_RUNTIME_RT_H
#define TR_CORE_RUNTIME_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "core/devx/log.h"
#include "core/ipc/ipc.h"
#include "core/msg/msg.h"
#include "tractor/tractor.h"

#define TR__CID_LEN 36
#define TR__DEFAULT_BUFSIZE 64
#define TR__MAX_LISTENERS 2

typedef struct tr__func {
    struct tr__func *next;
    char *ns, *name;
    int kind;
    tr_func_t fn;
    void *ud;
    char *pld_spec;
} tr__func_t;

/* one queued message of a context */
typedef struct tr__qent {
    int type; /* TR__MSG_YIELD or TR__MSG_STOP */
    tr__str_t pld;
    tr__chunk_t *chunk;
} tr__qent_t;

typedef struct tr__ring {
    tr__qent_t *v;
    size_t cap, head, len;
} tr__ring_t;

typedef struct tr__pending_ack {
    struct tr__pending_ack *next;
    tr__chan_t *chan;
    char cid[TR__CID_LEN + 1];
} tr__pending_ack_t;

enum { TR__SIDE_CALLER = 0, TR__SIDE_CALLEE = 1 };
enum { TR__OUT_NONE = 0, TR__OUT_RESULT, TR__OUT_ERROR };

struct tr_error {
    int code;
    char *type;     /* boxed_type_str */
    char *src_type; /* src_type_str */
    char *message;
    char *tb;
    char *src_name, *src_uuid;
    size_t n_relay;
    char **relay_name, **relay_uuid;
    char *canceller_name, *canceller_uuid;
    char *sender_name, *sender_uuid;
    char *cid;
    size_t n_group;
    tr_error_t **group;
    char *summary;
};

struct tr_stream {
    atomic_int refs;
    tr_ctx_t *ctx;
    int is_sub;       /* a broadcast subscriber */
    tr__ring_t ring;  /* subscribers only */
    int lagged;
    int closed;
    struct tr_stream *next_sub;
};

struct tr_ctx {
    atomic_int refs;
    tr_runtime_t *rt;
    tr__chan_t *chan;
    char cid[TR__CID_LEN + 1];
    int side;
    int kind; /* functype */
    char *ns, *func;
    char peer_name[128], peer_uuid[64];
    int in_table;

    /* callee */
    tr_func_t fn;
    void *ud;
    uint8_t *kwargs;
    size_t kwargs_len;
    tr__wbuf_t result;
    int has_result;
    char *err_type, *err_msg, *err_tb;
    tr_error_t *relay_err;
    int started_sent;
    int finished;
    int local_cancelled; /* our task was asked to stop */
    char *cancel_reason;
    tr__pending_ack_t *acks;

    /* caller */
    int acked;
    char functype[16];
    int started_recv;
    tr_buf_t first;
    int is_cancel_req; /* a self.cancel/_cancel_task request */

    /* both */
    tr__ring_t q;
    size_t q_yields;
    size_t dropped; /* Yields dropped on overrun, not yet reported */
    int bufsize;
    int allow_overruns;
    int stream_open, stream_closed, eoc, peer_stopped;
    tr_stream_t *stream;
    tr_stream_t *subs;
    int outcome;
    tr_buf_t res;
    tr_error_t *error;
    int cancel_called, cancel_acked;
    char canceller_name[128], canceller_uuid[64];
    int has_canceller;
    tr__pldspec_t *spec;

    pthread_cond_t cond;
    int waiters;
    struct tr__waiter *lead_w; /* a waiter reading the channel itself */
    int wake_deferred; /* in the reading thread's wake batch */
    struct tr_ctx *next; /* table chain */
};

typedef struct tr__cmd {
    struct tr__cmd *next;
    void (*fn)(tr_runtime_t *rt, void *arg);
    void *arg;
} tr__cmd_t;

typedef struct tr__child tr__child_t;

typedef struct tr__peer {
    struct tr__peer *next;
    tr__chan_t *chan;
} tr__peer_t;

struct tr_portal {
    atomic_int refs;
    tr_runtime_t *rt;
    tr__chan_t *chan;
    char name[128], uuid[64];
    tr__child_t *child; /* when it is our child */
    int owns_chan;      /* connected by tr__portal_connect */
};

#define TR__CTX_BUCKETS 1024

struct tr_runtime {
    const struct tr__rt_ops *ops; /* the layers above (spawn, discovery) */
    pthread_mutex_t mu;
    pthread_condattr_t cattr;
    uv_loop_t loop;
    pthread_t io_thread;
    uv_async_t wake;
    tr__rset_t rset; /* every channel's socket, for the I/O thread */
    uv_signal_t sigint, sigterm;
    uv_timer_t exit_timer;
    int io_running;
    tr__cmd_t *cmd_head, *cmd_tail;
    pthread_mutex_t dirty_mu; /* guards `dirty` and chan->next_dirty */
    tr__chan_t *dirty;

    tr__aid_info_t aid;
    int is_child;
    int loglevel;
    int transport; /* TR__ADDR_TCP / UDS */
    uint32_t max_frame;
    int hs_timeout_ms;
    char *module_path;
    int task_mode;
    int handle_signals;
    int enable_registrar;
    tr__listener_t listeners[TR__MAX_LISTENERS];
    int n_listeners;
    tr__addr_t bind_addr;
    int have_bind_addr;
    tr__addr_t reg_addrs[4];
    int n_reg_addrs;

    /* child mode */
    tr__chan_t *parent;
    tr__addr_t parent_addr;
    int got_spawnspec;
    char **enabled_modules;
    size_t n_enabled_modules;
    /* _root_mailbox / _root_addrs from our SpawnSpec's _runtime_vars (raw
     * msgpack): the tree root's addresses, relayed to our own children
     * (tractor copies its runtime vars into each child's). NULL in a root. */
    char *root_mailbox_raw, *root_addrs_raw;
    size_t root_mailbox_len, root_addrs_len;
    int boot_state; /* 0 connecting, 1 ready, <0 failed (TR_E*) */
    char boot_err[200];
    int serving;

    tr__func_t *funcs;
    tr_ctx_t *callers[TR__CTX_BUCKETS];
    tr_ctx_t *callees[TR__CTX_BUCKETS];
    tr_ctx_t *route_last; /* where the last Yield/Stop went (rt->mu); reset
                             whenever the tables change */
    tr__peer_t *peers;

    tr__child_t *children; /* every spawned child still tracked */
    tr_nursery_t *nurseries;

    /* tasks */
    int running_tasks;
    pthread_cond_t tasks_cond;
    int idle_workers;
    int wakes_pending; /* idle workers signalled but not yet running */
    tr_ctx_t **taskq; /* pending tasks (pool or host mode) */
    size_t taskq_len, taskq_cap;
    pthread_cond_t pool_cond;
    int pool_shutdown;
    int n_workers;

    /* cancellation */
    int cancelled;
    const char *cancel_reason;
    tr__pending_ack_t *cancel_acks;
    pthread_cond_t wait_cond; /* tr__runtime_wait, misc */
    int closing;

    /* waiters (for waking everything on cancellation) */
    struct tr__waiter *waiters;

    /* the pollable fd */
    int efd;
    atomic_int efd_signalled;

    /* discovery state (registrar) */
    void *registry;
    int is_registrar;
};

typedef struct tr__waiter {
    struct tr__waiter *next, *prev;
    pthread_cond_t *cond;
    int efd;          /* a leader's eventfd (tr__wait_ctx), or -1 */
    atomic_int woken; /* a leader's wake-up flag */
} tr__waiter_t;

/* ---- runtime core (rt.c) ------------------------------------------------ */
extern tr_runtime_t *tr__the_runtime; /* the process's runtime (one per
                                         process by design) */
void tr__post(tr_runtime_t *rt, void (*fn)(tr_runtime_t *, void *), void *arg);
/* Run fn on the I/O thread and wait for it (fn must not block). */
void tr__post_sync(tr_runtime_t *rt, void (*fn)(tr_runtime_t *, void *),
                   void *arg);
void tr__signal_fd(tr_runtime_t *rt);
uint64_t tr__deadline(int timeout_ms); /* 0 = poll, UINT64_MAX = forever */
/* Wait on cond (rt->mu held). 0 woken, TR_ETIMEDOUT/TR_EAGAIN, or
 * TR_ECANCELLED when the calling task (or, off-task, the runtime) has been
 * cancelled. `cancellable` = 0 for internal teardown waits. */
int tr__wait(tr_runtime_t *rt, pthread_cond_t *cond, int *waiters,
             uint64_t deadline, int cancellable);
/* tr__wait on a context's condition (rt->mu held), but when the calling
 * thread may, it reads the context's channel itself while it waits
 * (tr__chan_lead): the frame it waits for then wakes it directly, with no
 * hop through the I/O thread. Same returns as tr__wait. */
int tr__wait_ctx(tr_runtime_t *rt, tr_ctx_t *c, uint64_t deadline, int cancellable);
/* rt->mu held: wake whoever waits on context c (condition or leader). */
void tr__ctx_wake_waiters(tr_ctx_t *c);
/* rt->mu held: wake only the thread leading c's channel for c, if any. */
void tr__ctx_wake_leader(tr_ctx_t *c);
int tr__cancel_point(tr_runtime_t *rt); /* rt->mu held */
void tr__wake_all(tr_runtime_t *rt);    /* rt->mu held */
void tr__uuid4(char out[TR__CID_LEN + 1]);
char *tr__strdup(const char *s);
char *tr__strndup(const char *s, size_t n);

/* ---- contexts (ctx.c) -------------------------------------------------- */
tr_ctx_t *tr__ctx_new(tr_runtime_t *rt, tr__chan_t *chan, int side);
void tr__ctx_table_add(tr_runtime_t *rt, tr_ctx_t *c);
void tr__ctx_table_del(tr_runtime_t *rt, tr_ctx_t *c);
tr_ctx_t *tr__ctx_lookup(tr_runtime_t *rt, int side, tr__str_t cid);
/* I/O thread, rt->mu held: route a message that carries a cid. */
void tr__ctx_deliver(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m,
                     tr__chunk_t *chunk);
/* The reading thread, rt->mu NOT held: begin (1) or end (0) a read batch;
 * the contexts its stream deliveries woke are woken once, at the end. */
void tr__ctx_batch(tr_runtime_t *rt, int begin);
/* rt->mu held: the channel died; every context on it fails with
 * TransportClosed (reason). */
void tr__ctx_chan_lost(tr_runtime_t *rt, tr__chan_t *chan, const char *reason);
/* rt->mu held: cancel a callee task (canceller uid). */
void tr__ctx_cancel_task(tr_ctx_t *c, const char *cname, const char *cuuid,
                         const char *reason);
/* Send a Start for caller ctx `c` (fills cid). */
int tr__ctx_send_start(tr_ctx_t *c, const char *ns, const char *func,
                       const void *kw, size_t kwlen);
/* rt->mu held: wait until the ctx has an outcome. */
int tr__ctx_wait_outcome(tr_ctx_t *c, uint64_t deadline, int cancellable);
/* Callee: the task returned rc: ship Stop/Return/Error, acks. */
void tr__ctx_task_done(tr_ctx_t *c, int rc);
/* Send an Error frame for cid on chan from this actor. */
int tr__send_error(tr_runtime_t *rt, tr__chan_t *chan, const char *cid,
                   const char *type, const char *msg, const char *tb);

int tr__send_simple(tr__chan_t *chan, const char *cid, int type, tr__str_t pld,
                    int flag);
int tr__send_error_full(tr_runtime_t *rt, tr__chan_t *chan, const char *cid,
                        const char *type, const char *msg, const char *tb,
                        const tr__uid_t *canceller, const tr__uid_t *sender,
                        const tr_error_t *relay);
/* Pending CancelAcks: queue one (rt->mu held), or send and free a detached
 * list (no lock held). */
void tr__pending_ack_push(tr__pending_ack_t **list, tr__chan_t *chan, const char *cid);
void tr__pending_acks_send(tr__pending_ack_t *acks);
int tr__ring_push(tr__ring_t *r, tr__qent_t e);
int tr__ring_pop(tr__ring_t *r, tr__qent_t *e);
void tr__ring_clear(tr__ring_t *r);

/* ---- errors (error.c) ------------------------------------------------- */
tr_error_t *tr__error_from_msg(const tr__msg_error_t *e, const tr__str_t *cid);
tr_error_t *tr__error_local(int code, const char *type, const char *msg);
tr_error_t *tr__error_group(tr_error_t **v, size_t n);
void tr__error_set_out(tr_error_t **out, tr_error_t *e); /* copy into *out */

/* ---- tasks (task.c) --------------------------------------------------- */
void tr__task_submit(tr_runtime_t *rt, tr_ctx_t *c); /* rt->mu held */
void tr__tasks_shutdown(tr_runtime_t *rt);
extern _Thread_local tr_ctx_t *tr__current_task;

/* ---- RPC dispatch (rpc.c) ---------------------------------------------- */
extern const tr__chan_cbs_t tr__rt_chan_cbs;
void tr__rpc_on_start(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m,
                      tr__chunk_t *chunk);
void tr__runtime_cancel_locked(tr_runtime_t *rt, const char *reason,
                               const char *cname, const char *cuuid);
void tr__peer_add(tr_runtime_t *rt, tr__chan_t *c);

/* ---- the layers above the runtime --------------------------------------
 * core/spawn and core/discovery build on the runtime (its state, waits and
 * request path); the runtime reaches them only through this table, which
 * the public layer passes to tr__runtime_open (capi/runtime.c). Every
 * member is required. */
typedef struct tr__rt_ops {
    /* spawn: a handshake/error/close on a channel that may be a child's
     * (I/O thread); signal every child; close every open nursery */
    int (*on_handshake)(tr_runtime_t *rt, tr__chan_t *c);
    void (*on_chan_error)(tr_runtime_t *rt, tr__chan_t *c, tr_error_t *e);
    void (*on_chan_close)(tr_runtime_t *rt, tr__chan_t *c);
    void (*children_kill_all)(tr_runtime_t *rt, int sig);
    void (*nurseries_close_all)(tr_runtime_t *rt);
    /* discovery: join or become the registrar, (un)register ourselves, serve
     * registrar RPCs (1 when handled), free the registry */
    int (*discovery_boot)(tr_runtime_t *rt, const char *registry_addrs, char *err,
                          size_t errlen);
    int (*register_self)(tr_runtime_t *rt);
    void (*unregister_self)(tr_runtime_t *rt);
    int (*registrar_handle)(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m);
    void (*registrar_free)(tr_runtime_t *rt);
} tr__rt_ops_t;

/* ---- logging through the runtime's logger (rt.c over core/devx) ------- */
/* rt may be NULL (before a runtime exists): records at TR_LOG_ERROR and up. */
void tr__log(tr_runtime_t *rt, int level, const char *module, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));
void tr__runtime_logv(tr_runtime_t *rt, int level, const char *module,
                      const char *fmt, va_list ap);
void tr__runtime_log_str(tr_runtime_t *rt, int level, const char *module,
                         const char *msg);
#define TR__LOG(rt, lvl, mod, ...)                                      \
    do {                                                                \
        if ((lvl) >= ((rt) ? (rt)->loglevel : TR_LOG_ERROR))            \
            tr__log((rt), (lvl), (mod), __VA_ARGS__);                   \
    } while (0)


/* ---- entry points of the public layer --------------------------------
 * capi/ defines each public tr_X over the tr__X here; the contract of each
 * (blocking, ownership, errors) is tr_X's comment in tractor/tractor.h. */
const char *tr__version(void);
unsigned tr__version_hex(void);
const char *tr__strerror(int err);
const char *tr__err_name(int err);
void tr__buf_release(tr_buf_t *buf);
void tr__runtime_opts_init(tr_runtime_opts_t *opts);
int tr__runtime_open(const tr_runtime_opts_t *opts, const struct tr__rt_ops *ops,
                     tr_runtime_t **out);
size_t tr__runtime_enabled_module_count(tr_runtime_t *rt);
const char *tr__runtime_enabled_module(tr_runtime_t *rt, size_t i);
int tr__runtime_boot_failed(tr_runtime_t *rt, const char *type, const char *message, const char *tb);
int tr__runtime_serve(tr_runtime_t *rt);
int tr__runtime_wait(tr_runtime_t *rt, int timeout_ms);
int tr__runtime_cancel(tr_runtime_t *rt);
int tr__runtime_cancelled(tr_runtime_t *rt);
const char *tr__runtime_cancel_reason(tr_runtime_t *rt);
int tr__runtime_close(tr_runtime_t *rt);
const char *tr__runtime_name(tr_runtime_t *rt);
const char *tr__runtime_uuid(tr_runtime_t *rt);
int tr__runtime_addr(tr_runtime_t *rt, char *buf, size_t buflen);
int tr__runtime_is_registrar(tr_runtime_t *rt);
int tr__runtime_is_child(tr_runtime_t *rt);
int tr__runtime_loglevel(tr_runtime_t *rt);
int tr__runtime_fd(tr_runtime_t *rt);
void tr__runtime_fd_clear(tr_runtime_t *rt);
int tr__register_func(tr_runtime_t *rt, const char *ns, const char *name, tr_functype_t kind, tr_func_t func, void *userdata, const char *pld_spec);
int tr__load_c_module(tr_runtime_t *rt, const char *name, char *errbuf, size_t errlen);
int tr__runtime_next_task(tr_runtime_t *rt, tr_ctx_t **ctx, int timeout_ms);
int tr__portal_connect(tr_runtime_t *rt, const char *addr, tr_portal_t **out, int timeout_ms);
const char *tr__portal_name(tr_portal_t *p);
const char *tr__portal_uuid(tr_portal_t *p);
int tr__portal_pid(tr_portal_t *p);
int tr__portal_connected(tr_portal_t *p);
int tr__portal_run(tr_portal_t *p, const char *ns, const char *func, const void *kwargs, size_t kwargs_len, tr_buf_t *result, tr_error_t **err, int timeout_ms);
int tr__portal_start_call(tr_portal_t *p, const char *ns, const char *func, const void *kwargs, size_t kwargs_len, tr_ctx_t **out);
int tr__portal_wait_for_result(tr_portal_t *p, tr_buf_t *result, tr_error_t **err, int timeout_ms);
int tr__portal_cancel_actor(tr_portal_t *p, int timeout_ms);
void tr__portal_release(tr_portal_t *p);
void tr__ctx_opts_init(tr_ctx_opts_t *opts);
int tr__portal_open_context(tr_portal_t *p, const char *ns, const char *func, const void *kwargs, size_t kwargs_len, const tr_ctx_opts_t *opts, tr_ctx_t **ctx, tr_buf_t *first, tr_error_t **err, int timeout_ms);
int tr__portal_start_context(tr_portal_t *p, const char *ns, const char *func, const void *kwargs, size_t kwargs_len, const tr_ctx_opts_t *opts, tr_ctx_t **ctx);
int tr__ctx_wait_started(tr_ctx_t *ctx, tr_buf_t *first, tr_error_t **err, int timeout_ms);
int tr__ctx_started(tr_ctx_t *ctx, const void *buf, size_t len);
int tr__ctx_open_stream(tr_ctx_t *ctx, tr_stream_t **out);
int tr__ctx_cancel(tr_ctx_t *ctx, const char *reason);
int tr__ctx_wait_for_result(tr_ctx_t *ctx, tr_buf_t *result, tr_error_t **err, int timeout_ms);
int tr__ctx_result(tr_ctx_t *ctx, tr_buf_t *result, tr_error_t **err, int timeout_ms);
int tr__ctx_has_outcome(tr_ctx_t *ctx);
int tr__ctx_cancel_called(tr_ctx_t *ctx);
int tr__ctx_cancel_acked(tr_ctx_t *ctx);
int tr__ctx_canceller(tr_ctx_t *ctx, const char **name, const char **uuid);
const char *tr__ctx_cid(tr_ctx_t *ctx);
const char *tr__ctx_ns(tr_ctx_t *ctx);
const char *tr__ctx_func(tr_ctx_t *ctx);
int tr__ctx_kind(tr_ctx_t *ctx);
void *tr__ctx_userdata(tr_ctx_t *ctx);
int tr__ctx_kwargs(tr_ctx_t *ctx, const void **buf, size_t *len);
const char *tr__ctx_peer_name(tr_ctx_t *ctx);
const char *tr__ctx_peer_uuid(tr_ctx_t *ctx);
tr_runtime_t *tr__ctx_runtime(tr_ctx_t *ctx);
int tr__ctx_set_result(tr_ctx_t *ctx, const void *buf, size_t len);
int tr__ctx_set_error(tr_ctx_t *ctx, const char *type, const char *message, const char *tb);
int tr__ctx_set_remote_error(tr_ctx_t *ctx, const tr_error_t *e);
int tr__ctx_finish(tr_ctx_t *ctx, int rc);
int tr__ctx_set_overruns(tr_ctx_t *ctx, int allow, int msg_buffer_size);
int tr__ctx_limit_plds(tr_ctx_t *ctx, const char *pld_spec);
int tr__ctx_close(tr_ctx_t *ctx, int block_error);
tr_ctx_t *tr__ctx_retain(tr_ctx_t *ctx);
void tr__ctx_release(tr_ctx_t *ctx);
int tr__stream_send(tr_stream_t *s, const void *buf, size_t len, tr_error_t **err);
int tr__stream_recv(tr_stream_t *s, tr_buf_t *out, tr_error_t **err, int timeout_ms);
int tr__stream_close(tr_stream_t *s);
int tr__stream_subscribe(tr_stream_t *s, tr_stream_t **out);
tr_ctx_t *tr__stream_ctx(tr_stream_t *s);
void tr__stream_release(tr_stream_t *s);
const char *tr__error_type(const tr_error_t *e);
const char *tr__error_src_type(const tr_error_t *e);
const char *tr__error_message(const tr_error_t *e);
const char *tr__error_traceback(const tr_error_t *e);
int tr__error_code(const tr_error_t *e);
const char *tr__error_src_name(const tr_error_t *e);
const char *tr__error_src_uuid(const tr_error_t *e);
size_t tr__error_relay_len(const tr_error_t *e);
const char *tr__error_relay_name(const tr_error_t *e, size_t i);
const char *tr__error_relay_uuid(const tr_error_t *e, size_t i);
const char *tr__error_canceller_name(const tr_error_t *e);
const char *tr__error_canceller_uuid(const tr_error_t *e);
const char *tr__error_sender_name(const tr_error_t *e);
const char *tr__error_sender_uuid(const tr_error_t *e);
const char *tr__error_cid(const tr_error_t *e);
size_t tr__error_group_len(const tr_error_t *e);
const tr_error_t *tr__error_group_at(const tr_error_t *e, size_t i);
const char *tr__error_str(const tr_error_t *e);
tr_error_t *tr__error_copy(const tr_error_t *e);
void tr__error_free(tr_error_t *e);

#endif
