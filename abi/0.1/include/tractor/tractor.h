/*
 * libtractor — a structured-concurrency, multi-process actor runtime.
 *
 * This is the whole public ABI. Every handle is an opaque pointer; every
 * function that can fail returns 0 or a negative TR_E* code (tr_strerror()).
 *
 * Conventions (see docs/c-api.md for the long form):
 *  - Thread safety: every function may be called from any thread on any handle
 *    unless its comment says otherwise.
 *  - Blocking: functions that can wait take `timeout_ms`: 0 polls (returns
 *    TR_EAGAIN when nothing is ready), -1 waits forever, >0 waits that long
 *    then returns TR_ETIMEDOUT. A wait inside a served task is a cancellation
 *    point: once the task's context is cancelled it returns TR_ECANCELLED.
 *  - Payloads cross the ABI as msgpack bytes (`const void *buf, size_t len`).
 *    Received payloads come back in a tr_buf_t which the caller releases with
 *    tr_buf_release(); its bytes stay valid until then.
 *  - Remote failures come back as TR_EREMOTE (or TR_ECTXCANCELLED) together
 *    with a tr_error_t through an optional `tr_error_t **err` out-parameter;
 *    the caller owns it and frees it with tr_error_free(). Passing NULL
 *    discards it.
 */
#ifndef TRACTOR_TRACTOR_H
#define TRACTOR_TRACTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TR_BUILDING_LIBRARY) && defined(__GNUC__)
#define TR_API __attribute__((visibility("default")))
#else
#define TR_API
#endif

/* ------------------------------------------------------------------ */
/* Version                                                             */

#define TR_VERSION_MAJOR 0
#define TR_VERSION_MINOR 1
#define TR_VERSION_PATCH 0
#define TR_VERSION_HEX \
    ((TR_VERSION_MAJOR << 16) | (TR_VERSION_MINOR << 8) | TR_VERSION_PATCH)

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
TR_API const char *tr_version(void);
/* The same as TR_VERSION_HEX, from the loaded library. */
TR_API unsigned tr_version_hex(void);

/* ------------------------------------------------------------------ */
/* Errors: one list, negative codes.                                   */

#define TR_ERRNO_MAP(XX)                                                      \
    XX(EINVAL, -1, "invalid argument")                                        \
    XX(ENOMEM, -2, "out of memory")                                           \
    XX(EAGAIN, -3, "nothing ready yet (poll again)")                          \
    XX(ETIMEDOUT, -4, "timed out")                                            \
    XX(ECANCELLED, -5, "cancelled")                                           \
    XX(ECLOSED, -6, "handle is closed")                                       \
    XX(ETRANSPORT, -7, "transport closed (peer gone or connection failed)")   \
    XX(EREMOTE, -8, "remote actor error (see tr_error_t)")                    \
    XX(ECTXCANCELLED, -9, "context cancelled (see tr_error_t canceller)")     \
    XX(EPROTO, -10, "malformed message")                                      \
    XX(EMSGSIZE, -11, "frame larger than the maximum frame size")             \
    XX(EMSGTYPE, -12, "payload does not match its spec (MsgTypeError)")       \
    XX(ENOTFOUND, -13, "not found")                                           \
    XX(EEXIST, -14, "already exists")                                         \
    XX(ESTATE, -15, "operation not valid in this state")                      \
    XX(EOVERRUN, -16, "stream overrun")                                       \
    XX(EEOC, -17, "end of channel (stream finished)")                         \
    XX(EADDR, -18, "bad or unusable address")                                 \
    XX(ESPAWN, -19, "could not spawn the actor process")                      \
    XX(EPERM, -20, "permission denied")                                       \
    XX(ESELF, -21, "operation targets the calling actor itself")              \
    XX(EGROUP, -22, "several errors (see tr_error_group_len)")                \
    XX(EIO, -23, "system I/O error")

typedef enum {
#define TR__ERR_ENUM(name, code, text) TR_##name = code,
    TR_ERRNO_MAP(TR__ERR_ENUM)
#undef TR__ERR_ENUM
    TR_ERRNO_MIN = -23
} tr_errno_t;

/* Human text for a TR_E* code ("unknown error" for others). Never NULL. */
TR_API const char *tr_strerror(int err);
/* The code's name, e.g. "TR_ETIMEDOUT". Never NULL. */
TR_API const char *tr_err_name(int err);

/* ------------------------------------------------------------------ */
/* Handles                                                             */

typedef struct tr_runtime tr_runtime_t; /* one actor (this process)   */
typedef struct tr_nursery tr_nursery_t; /* a supervisor of children   */
typedef struct tr_portal tr_portal_t;   /* a connection to a peer     */
typedef struct tr_ctx tr_ctx_t;         /* one linked remote task     */
typedef struct tr_stream tr_stream_t;   /* a bidirectional stream     */
typedef struct tr_error tr_error_t;     /* a (boxed) failure          */

/* A received msgpack payload. `data`/`len` stay valid until
 * tr_buf_release(). A zeroed tr_buf_t is "empty"; releasing it is a no-op. */
typedef struct tr_buf {
    const void *data;
    size_t len;
    void *_ref; /* private */
} tr_buf_t;

/* Release a buffer filled by the library. Safe on an empty buffer; the
 * struct is zeroed afterwards. */
TR_API void tr_buf_release(tr_buf_t *buf);

/* ------------------------------------------------------------------ */
/* Logging (tractor's levels)                                          */

enum {
    TR_LOG_TRANSPORT = 5,
    TR_LOG_DEBUG = 10,
    TR_LOG_RUNTIME = 15,
    TR_LOG_DEVX = 17,
    TR_LOG_INFO = 20,
    TR_LOG_IO = 21,
    TR_LOG_CANCEL = 22,
    TR_LOG_WARNING = 30,
    TR_LOG_ERROR = 40,
    TR_LOG_CRITICAL = 50,
    TR_LOG_PDB = 500
};

/* Level number for a name ("cancel", "ERROR", ...), case-insensitive;
 * TR_EINVAL for unknown names. */
TR_API int tr_log_level_from_name(const char *name);
/* Write one log line through the runtime's logger (actor name, short uid,
 * pid and `module` are added). `rt` may be NULL before a runtime exists. */
TR_API void tr_log(tr_runtime_t *rt, int level, const char *module,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Write an already formatted message (for bindings). */
TR_API void tr_log_str(tr_runtime_t *rt, int level, const char *module,
                       const char *msg);

/* ------------------------------------------------------------------ */
/* Runtime (the actor of this process)                                  */

typedef enum {
    TR_TASKS_THREADS = 0, /* each served task runs on its own pooled thread */
    TR_TASKS_HOST = 1     /* tasks are queued; the host runs them (see
                             tr_runtime_next_task)                          */
} tr_task_mode_t;

/* What a root does about the registrar at boot (see docs/discovery.md). */
typedef enum {
    TR_REGISTRAR_NONE = 0,   /* no discovery at all (standalone) */
    TR_REGISTRAR_ELECT = 1,  /* tractor's election: join the registrar that
                                answers at registry_addrs, or become it when
                                nothing listens there (default) */
    TR_REGISTRAR_JOIN = 2,   /* a registrar must already answer (clients) */
    TR_REGISTRAR_BECOME = 3  /* we must become it (tractor's ensure_registry;
                                registrar daemons) */
} tr_registrar_mode_t;

typedef struct tr_runtime_opts {
    size_t size;              /* sizeof(tr_runtime_opts_t); set by _init */
    const char *name;         /* actor name; default "root" */
    const char *transport;    /* "tcp" (default) or "uds" */
    const char *bind_addr;    /* listen address (multiaddr or host:port or
                                 path); NULL = random on the transport */
    const char *registry_addrs; /* comma-separated registrar addresses;
                                   NULL = $TRACTOR_REGISTRY_ADDR, else
                                   tractor's default for the transport:
                                   127.0.0.1:1616 (tcp) or
                                   <rt dir>/registry@1616.sock (uds) */
    const char *loglevel;     /* NULL = $TRACTOR_LOGLEVEL or "ERROR" */
    const char *module_path;  /* C module search path (':' separated);
                                 default $TRACTOR_MODULE_PATH */
    int task_mode;            /* tr_task_mode_t */
    int handle_signals;       /* 1 (default): SIGINT/SIGTERM cancel the actor */
    int child_argc;           /* child mode: the host's command line */
    char **child_argv;        /*   (--uid ... --parent_addr ... --loglevel) */
    uint32_t max_frame_size;  /* default 64 MiB */
    int enable_registrar;     /* tr_registrar_mode_t; TR_REGISTRAR_ELECT
                                 (default) */
    int handshake_timeout_ms; /* both sides of every connection; default
                                 10000 ($TRACTOR_HANDSHAKE_TIMEOUT_MS) */
} tr_runtime_opts_t;

/* Fill `opts` with defaults (and opts->size). */
TR_API void tr_runtime_opts_init(tr_runtime_opts_t *opts);

/* Open this process's actor. Blocking (binds, probes registrars; in child
 * mode connects back to the parent and receives its SpawnSpec).
 * One runtime per process: a second open returns TR_EEXIST.
 * Errors: TR_EINVAL (bad options / child command line), TR_EADDR,
 * TR_ETRANSPORT (parent unreachable), TR_EEXIST, TR_ENOMEM. */
TR_API int tr_runtime_open(const tr_runtime_opts_t *opts, tr_runtime_t **out);

/* Child mode only: the modules the parent enabled (SpawnSpec), in order.
 * Returns the count; *names points at library-owned strings valid until the
 * runtime is closed. */
TR_API size_t tr_runtime_enabled_module_count(tr_runtime_t *rt);
TR_API const char *tr_runtime_enabled_module(tr_runtime_t *rt, size_t i);

/* Child mode: report that booting failed (e.g. a module would not load).
 * Sends the parent a channel-level Error (no cid) with `type`/`message`, as
 * tractor does. The host should then close the runtime and exit non-zero. */
TR_API int tr_runtime_boot_failed(tr_runtime_t *rt, const char *type,
                                  const char *message, const char *tb);

/* Start serving: listen, register with the registrar, and (child mode)
 * begin processing the parent's requests. Non-blocking. Functions must be
 * registered before this in a child. TR_ESTATE if already serving. */
TR_API int tr_runtime_serve(tr_runtime_t *rt);

/* Block until the actor is asked to end: a `self.cancel` request, the parent
 * channel closing (child mode), SIGINT/SIGTERM, or tr_runtime_cancel().
 * Returns 0 when that happened, TR_ETIMEDOUT/TR_EAGAIN otherwise. */
TR_API int tr_runtime_wait(tr_runtime_t *rt, int timeout_ms);

/* Ask the actor to end (as a remote `self.cancel` would): every served task
 * is cancelled and every blocking call on a non-task thread returns
 * TR_ECANCELLED. Non-blocking. */
TR_API int tr_runtime_cancel(tr_runtime_t *rt);
/* 1 once the runtime has been cancelled (by anyone), else 0. */
TR_API int tr_runtime_cancelled(tr_runtime_t *rt);
/* Why the runtime was cancelled: "sigint", "sigterm", "remote", "parent-gone",
 * "local", or NULL. */
TR_API const char *tr_runtime_cancel_reason(tr_runtime_t *rt);

/* Close the runtime: cancel served tasks (bounded wait), unregister from the
 * registrar (bounded), close every channel after flushing what was queued,
 * unlink UDS socket files and free everything. Nurseries still open are
 * cancelled and closed first. Every handle derived from the runtime becomes
 * invalid except that handles still held may be closed/freed. Blocking. */
TR_API int tr_runtime_close(tr_runtime_t *rt);

/* This actor's identity. Strings owned by the runtime. */
TR_API const char *tr_runtime_name(tr_runtime_t *rt);
TR_API const char *tr_runtime_uuid(tr_runtime_t *rt);
/* The first listening address as a multiaddr string (into `buf`). */
TR_API int tr_runtime_addr(tr_runtime_t *rt, char *buf, size_t buflen);
/* 1 when this actor is the registrar. */
TR_API int tr_runtime_is_registrar(tr_runtime_t *rt);
/* 1 in a child (spawned) actor, 0 in a root. */
TR_API int tr_runtime_is_child(tr_runtime_t *rt);
/* The configured log level number. */
TR_API int tr_runtime_loglevel(tr_runtime_t *rt);

/* A file descriptor that becomes readable whenever any handle of this
 * runtime may have progressed (message arrived, task queued, cancelled).
 * Host event loops wait on it, then call tr_runtime_fd_clear() and poll
 * their handles with timeout 0. Owned by the runtime. */
TR_API int tr_runtime_fd(tr_runtime_t *rt);
TR_API void tr_runtime_fd_clear(tr_runtime_t *rt);

/* ------------------------------------------------------------------ */
/* Served functions                                                     */

typedef enum {
    TR_FUNC_ASYNCFUNC = 0, /* one call, one result (StartAck 'asyncfunc') */
    TR_FUNC_CONTEXT = 1    /* a context: started(), streams, result     */
} tr_functype_t;

/* A served function. `ctx` is the callee side of the call; kwargs are
 * available from tr_ctx_kwargs(). Set the result with tr_ctx_set_result()
 * and return 0, or fail: return a negative code (after tr_ctx_set_error()
 * for a type and message). Returning TR_ECANCELLED from a cancelled context
 * reports the cancellation (ContextCancelled) to the caller. */
typedef int (*tr_func_t)(tr_ctx_t *ctx, void *userdata);

/* Register `func` under (ns, name). `pld_spec` (may be NULL) limits the
 * payloads of a context endpoint (see tr_ctx_opts_t.pld_spec).
 * Thread-safe; TR_EEXIST if already registered. `ns` "self" is reserved. */
TR_API int tr_register_func(tr_runtime_t *rt, const char *ns, const char *name,
                            tr_functype_t kind, tr_func_t func, void *userdata,
                            const char *pld_spec);

/* Load a C module (shared object `lib<name>.so` or `<name>.so` on the module
 * search path) and call its `tr_module_init_<name>(tr_runtime_t *)` (dots in
 * the name become underscores). Used by the tractor-actor host. */
TR_API int tr_load_c_module(tr_runtime_t *rt, const char *name, char *errbuf,
                            size_t errlen);

/* TR_TASKS_HOST mode: take the next task to run. Returns 0 and *ctx (a
 * reference the host owns) when one is queued; the host looks up its
 * function (tr_ctx_ns/tr_ctx_func/tr_ctx_userdata), runs it, then calls
 * tr_ctx_finish() and tr_ctx_release(). TR_EAGAIN/TR_ETIMEDOUT otherwise. */
TR_API int tr_runtime_next_task(tr_runtime_t *rt, tr_ctx_t **ctx,
                                int timeout_ms);

/* ------------------------------------------------------------------ */
/* Nursery: spawning and supervising children                           */

typedef struct tr_spawn_opts {
    size_t size;
    const char *lang;           /* "c" (default for C), "python", "lua",
                                   "tractor" (Python tractor child) */
    const char *enable_modules; /* comma-separated module names */
    const char *loglevel;       /* NULL = inherit this actor's level */
    const char *command;        /* override the host command (argv[0..]) as a
                                   space-separated prefix; NULL = default for
                                   the language */
} tr_spawn_opts_t;

TR_API void tr_spawn_opts_init(tr_spawn_opts_t *opts);

/* Open a nursery. Non-blocking. */
TR_API int tr_nursery_open(tr_runtime_t *rt, tr_nursery_t **out);

/* Spawn a daemon child and wait until it has connected back and been sent
 * its SpawnSpec (timeout_ms bounds that wait). *portal is owned by the
 * caller (tr_portal_release) but the child lives until cancelled or the
 * nursery closes. Errors: TR_ESPAWN, TR_ETIMEDOUT, TR_EREMOTE (boot error),
 * TR_ECANCELLED, TR_ESTATE (nursery closing). */
TR_API int tr_nursery_start_actor(tr_nursery_t *n, const char *name,
                                  const tr_spawn_opts_t *opts,
                                  tr_portal_t **portal, tr_error_t **err,
                                  int timeout_ms);

/* Spawn a child, call (ns, func, kwargs) in it once; the nursery collects the
 * result (tr_portal_wait_for_result) and cancels the child afterwards.
 * The module `ns` is enabled in the child in addition to opts' modules. */
TR_API int tr_nursery_run_in_actor(tr_nursery_t *n, const char *name,
                                   const char *ns, const char *func,
                                   const void *kwargs, size_t kwargs_len,
                                   const tr_spawn_opts_t *opts,
                                   tr_portal_t **portal, tr_error_t **err,
                                   int timeout_ms);

/* Cancel every child (one-cancels-all): cancel RPC (0.5 s), then SIGTERM,
 * then SIGKILL after 1.6 s. Blocking until every child is reaped. */
TR_API int tr_nursery_cancel(tr_nursery_t *n);

/* Close the nursery: wait for run_in_actor results (then cancel those
 * children) and for daemons to exit; if `block_error` is non-zero (the
 * caller's own block failed) or any child errored, cancel every child.
 * Returns 0, or TR_EREMOTE/TR_EGROUP with the error(s) in *err (a group when
 * more than one). Frees the nursery. Blocking. */
TR_API int tr_nursery_close(tr_nursery_t *n, int block_error, tr_error_t **err);

/* Number of children still running. */
TR_API size_t tr_nursery_child_count(tr_nursery_t *n);

/* ------------------------------------------------------------------ */
/* Portals                                                             */

/* Connect to an actor listening at `addr` (multiaddr, host:port or UDS
 * path). Blocking (handshake), bounded by timeout_ms. */
TR_API int tr_portal_connect(tr_runtime_t *rt, const char *addr,
                             tr_portal_t **out, int timeout_ms);

/* The peer's identity; strings owned by the portal. */
TR_API const char *tr_portal_name(tr_portal_t *p);
TR_API const char *tr_portal_uuid(tr_portal_t *p);
/* Child process id of a spawned child (0 when not our child). */
TR_API int tr_portal_pid(tr_portal_t *p);
/* 1 while the channel to the peer is up. */
TR_API int tr_portal_connected(tr_portal_t *p);

/* Call (ns, func) with kwargs (a msgpack map, or NULL for none) and wait for
 * its result. On success *result holds the msgpack result. Errors:
 * TR_EREMOTE (+*err), TR_ETRANSPORT, TR_ETIMEDOUT, TR_ECANCELLED, TR_ESELF. */
TR_API int tr_portal_run(tr_portal_t *p, const char *ns, const char *func,
                         const void *kwargs, size_t kwargs_len,
                         tr_buf_t *result, tr_error_t **err, int timeout_ms);

/* Start a call without waiting: returns a caller-side context whose result
 * is collected with tr_ctx_wait_for_result() (coroutine-friendly). */
TR_API int tr_portal_start_call(tr_portal_t *p, const char *ns,
                                const char *func, const void *kwargs,
                                size_t kwargs_len, tr_ctx_t **out);

/* run_in_actor portals: wait for the one result. */
TR_API int tr_portal_wait_for_result(tr_portal_t *p, tr_buf_t *result,
                                     tr_error_t **err, int timeout_ms);

/* Cancel the whole remote actor (`self.cancel`). Waits for its CancelAck up
 * to timeout_ms (-1 = tractor's 0.5 s default). Returns 0 when acked,
 * TR_ETIMEDOUT, or TR_ETRANSPORT at once when the channel is down. */
TR_API int tr_portal_cancel_actor(tr_portal_t *p, int timeout_ms);

/* Release the caller's reference. The connection of a portal obtained with
 * tr_portal_connect is closed when its last reference goes. */
TR_API void tr_portal_release(tr_portal_t *p);

/* ------------------------------------------------------------------ */
/* Contexts                                                            */

typedef struct tr_ctx_opts {
    size_t size;
    int allow_overruns;    /* queue past the buffer instead of StreamOverrun */
    int msg_buffer_size;   /* default 64 */
    const char *pld_spec;  /* payload spec, e.g. "int", "int|nil", "[str]",
                              "{name:str,n:int}", "any" (default) */
} tr_ctx_opts_t;

TR_API void tr_ctx_opts_init(tr_ctx_opts_t *opts);

/* Open a context: Start, wait for StartAck('context') and Started. On success
 * *ctx is the caller side and *first the started value. On a remote error
 * *ctx is NULL and *err says why. Errors: TR_EREMOTE, TR_ECTXCANCELLED,
 * TR_ETRANSPORT, TR_ETIMEDOUT, TR_ESELF, TR_EMSGTYPE. */
TR_API int tr_portal_open_context(tr_portal_t *p, const char *ns,
                                  const char *func, const void *kwargs,
                                  size_t kwargs_len, const tr_ctx_opts_t *opts,
                                  tr_ctx_t **ctx, tr_buf_t *first,
                                  tr_error_t **err, int timeout_ms);

/* Non-blocking half of open_context (for coroutine hosts): sends Start and
 * returns the context; then poll tr_ctx_wait_started(). */
TR_API int tr_portal_start_context(tr_portal_t *p, const char *ns,
                                   const char *func, const void *kwargs,
                                   size_t kwargs_len, const tr_ctx_opts_t *opts,
                                   tr_ctx_t **ctx);
TR_API int tr_ctx_wait_started(tr_ctx_t *ctx, tr_buf_t *first,
                               tr_error_t **err, int timeout_ms);

/* Callee: send Started(value). Exactly once, before opening a stream;
 * TR_ESTATE otherwise. Validates value against the context's pld spec
 * (TR_EMSGTYPE, nothing sent). */
TR_API int tr_ctx_started(tr_ctx_t *ctx, const void *buf, size_t len);

/* Open the context's stream (no wire message). Caller side: after
 * open_context; callee side: after started(). One stream per context. */
TR_API int tr_ctx_open_stream(tr_ctx_t *ctx, tr_stream_t **out);

/* Cancel the context. Caller side: sends `self._cancel_task` and waits for
 * the ack (≤0.616 s; at once when the transport is down). Callee side:
 * cancels our own task (the caller gets ContextCancelled). `reason` (may be
 * NULL) travels in the ContextCancelled message. */
TR_API int tr_ctx_cancel(tr_ctx_t *ctx, const char *reason);

/* Wait for the context's final outcome. 0 with *result (Return value);
 * TR_ECTXCANCELLED with *err when it was cancelled (a cancel we requested
 * ourselves is reported this way too: check tr_ctx_cancel_acked); TR_EREMOTE
 * for an error. Draining discards late Yields. */
TR_API int tr_ctx_wait_for_result(tr_ctx_t *ctx, tr_buf_t *result,
                                  tr_error_t **err, int timeout_ms);
/* Deprecated alias of tr_ctx_wait_for_result (tractor's old `result`). */
TR_API int tr_ctx_result(tr_ctx_t *ctx, tr_buf_t *result, tr_error_t **err,
                         int timeout_ms);

TR_API int tr_ctx_has_outcome(tr_ctx_t *ctx);
TR_API int tr_ctx_cancel_called(tr_ctx_t *ctx);
TR_API int tr_ctx_cancel_acked(tr_ctx_t *ctx);
/* Who requested the cancellation: "name" and "uuid" (library-owned), or 0
 * when not cancelled. Returns 1 when set. */
TR_API int tr_ctx_canceller(tr_ctx_t *ctx, const char **name,
                            const char **uuid);
TR_API const char *tr_ctx_cid(tr_ctx_t *ctx);
/* Callee side: the function called and its kwargs (msgpack map bytes, owned
 * by the context). */
TR_API const char *tr_ctx_ns(tr_ctx_t *ctx);
TR_API const char *tr_ctx_func(tr_ctx_t *ctx);
TR_API int tr_ctx_kind(tr_ctx_t *ctx);
TR_API void *tr_ctx_userdata(tr_ctx_t *ctx);
TR_API int tr_ctx_kwargs(tr_ctx_t *ctx, const void **buf, size_t *len);
/* The caller's uid (callee side) or the callee's (caller side). */
TR_API const char *tr_ctx_peer_name(tr_ctx_t *ctx);
TR_API const char *tr_ctx_peer_uuid(tr_ctx_t *ctx);
TR_API tr_runtime_t *tr_ctx_runtime(tr_ctx_t *ctx);

/* Callee: set the value returned to the caller (copied). */
TR_API int tr_ctx_set_result(tr_ctx_t *ctx, const void *buf, size_t len);
/* Callee: describe the failure shipped to the caller when the function
 * returns non-zero: boxed type name (default "CError"), message, traceback
 * text (default: "<ns>.<func> returned <code> (<TR_E name>)"). */
TR_API int tr_ctx_set_error(tr_ctx_t *ctx, const char *type,
                            const char *message, const char *tb);
/* Callee: relay an error received from elsewhere (an "inception"): the
 * caller gets it boxed as RemoteActorError with our uid added to relay_path. */
TR_API int tr_ctx_set_remote_error(tr_ctx_t *ctx, const tr_error_t *e);

/* Host task mode: report the function's return code. */
TR_API int tr_ctx_finish(tr_ctx_t *ctx, int rc);

/* Either side: let Yields queue past the buffer instead of answering
 * StreamOverrun (allow != 0), and/or resize the buffer (size > 0). */
TR_API int tr_ctx_set_overruns(tr_ctx_t *ctx, int allow, int msg_buffer_size);

/* Limit this context's payloads (tractor's limit_plds). */
TR_API int tr_ctx_limit_plds(tr_ctx_t *ctx, const char *pld_spec);

/* Close the caller side: like leaving tractor's `open_context` block. If
 * `block_error` is non-zero the context is cancelled first. Waits for the
 * outcome (bounded; not at all for a cancelled tr_portal_start_call call,
 * which sends nothing more), releases the handle. */
TR_API int tr_ctx_close(tr_ctx_t *ctx, int block_error);

/* Reference counting for bindings. */
TR_API tr_ctx_t *tr_ctx_retain(tr_ctx_t *ctx);
TR_API void tr_ctx_release(tr_ctx_t *ctx);

/* ------------------------------------------------------------------ */
/* Streams                                                             */

/* Send one value (Yield). Errors: TR_EEOC (stream finished), TR_ECLOSED,
 * TR_EREMOTE/TR_ECTXCANCELLED (+*err: an error already delivered),
 * TR_ETRANSPORT, TR_EMSGTYPE, TR_ECANCELLED. Waits only for flow control:
 * while 1 MiB or more is already queued on the connection (a cancellation
 * point); the peer's buffer policy (overruns) is never waited on. */
TR_API int tr_stream_send(tr_stream_t *s, const void *buf, size_t len,
                          tr_error_t **err);

/* Receive the next value. TR_EEOC once the peer closed the stream (Stop) or
 * returned; TR_EREMOTE/TR_ECTXCANCELLED/TR_EOVERRUN (+*err) on failure;
 * TR_EAGAIN with timeout 0. */
TR_API int tr_stream_recv(tr_stream_t *s, tr_buf_t *out, tr_error_t **err,
                          int timeout_ms);

/* Close our end: discard what is queued and send Stop (unless the peer
 * already stopped or the stream is closed). TransportClosed is tolerated.
 * The handle remains valid until tr_stream_release(). */
TR_API int tr_stream_close(tr_stream_t *s);

/* A broadcast subscriber: every subscriber gets every value received after
 * it subscribed. A subscriber lagging more than the buffer size skips ahead
 * and its next recv returns TR_EOVERRUN once (tractor's Lagged). */
TR_API int tr_stream_subscribe(tr_stream_t *s, tr_stream_t **out);

TR_API tr_ctx_t *tr_stream_ctx(tr_stream_t *s);
TR_API void tr_stream_release(tr_stream_t *s);

/* ------------------------------------------------------------------ */
/* Errors from remote actors                                            */

/* Boxed type name at this hop ("ValueError", "ContextCancelled",
 * "RemoteActorError" for a relayed one, ...). */
TR_API const char *tr_error_type(const tr_error_t *e);
/* Type name where it was first raised. */
TR_API const char *tr_error_src_type(const tr_error_t *e);
TR_API const char *tr_error_message(const tr_error_t *e);
TR_API const char *tr_error_traceback(const tr_error_t *e);
/* The TR_E* code that best classifies it (TR_EREMOTE, TR_ECTXCANCELLED,
 * TR_EOVERRUN, TR_EMSGTYPE, TR_ETRANSPORT, TR_EGROUP, ...). */
TR_API int tr_error_code(const tr_error_t *e);
TR_API const char *tr_error_src_name(const tr_error_t *e);
TR_API const char *tr_error_src_uuid(const tr_error_t *e);
TR_API size_t tr_error_relay_len(const tr_error_t *e);
TR_API const char *tr_error_relay_name(const tr_error_t *e, size_t i);
TR_API const char *tr_error_relay_uuid(const tr_error_t *e, size_t i);
/* ContextCancelled: who asked. NULL when not set. */
TR_API const char *tr_error_canceller_name(const tr_error_t *e);
TR_API const char *tr_error_canceller_uuid(const tr_error_t *e);
/* StreamOverrun: who overran. NULL when not set. */
TR_API const char *tr_error_sender_name(const tr_error_t *e);
TR_API const char *tr_error_sender_uuid(const tr_error_t *e);
/* The context id it concerns, or NULL. */
TR_API const char *tr_error_cid(const tr_error_t *e);
/* Error groups (TR_EGROUP): members, each owned by the group. */
TR_API size_t tr_error_group_len(const tr_error_t *e);
TR_API const tr_error_t *tr_error_group_at(const tr_error_t *e, size_t i);
/* One-line summary "Type('message') from name[uuid8] via a -> b". Owned by
 * the error. */
TR_API const char *tr_error_str(const tr_error_t *e);
TR_API tr_error_t *tr_error_copy(const tr_error_t *e);
TR_API void tr_error_free(tr_error_t *e);

/* ------------------------------------------------------------------ */
/* Discovery                                                           */

/* Lookups go to the registrars in this actor's registry addresses (the
 * registrar itself answers locally). timeout_ms bounds the whole call (0 =
 * a short default for the lookups, -1 = no bound). TR_ESTATE when the
 * runtime has no registrar (TR_REGISTRAR_NONE); TR_ETRANSPORT when no
 * registrar could be reached. A name matches the actor name only (tractor
 * also matched uuids). */

/* Portal to the first actor registered as `name`, or TR_ENOTFOUND. Its
 * addresses are tried in preference order (UDS > loopback TCP > remote);
 * stale addresses that refuse connection are deleted from the registrar
 * (and the lookup repeated: another actor of that name may be behind). */
TR_API int tr_find_actor(tr_runtime_t *rt, const char *name,
                         tr_portal_t **out, int timeout_ms);
/* Wait until an actor called `name` registers, then connect. Keeps
 * retrying while the registrar is unreachable (e.g. restarting).
 * TR_ETIMEDOUT, TR_ECANCELLED; timeout 0 polls (TR_EAGAIN). */
TR_API int tr_wait_for_actor(tr_runtime_t *rt, const char *name,
                             tr_portal_t **out, int timeout_ms);
/* The preferred address of `name` (multiaddr) or TR_ENOTFOUND. Does not
 * connect. */
TR_API int tr_query_actor(tr_runtime_t *rt, const char *name, char *buf,
                          size_t buflen, int timeout_ms);
/* The registry as msgpack {"name.uuid": [addr, ...]} (addresses in the
 * wire form [host, port] / [dir, file]), from the first registrar that
 * answers. */
TR_API int tr_get_registry(tr_runtime_t *rt, tr_buf_t *out, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* TRACTOR_TRACTOR_H */
