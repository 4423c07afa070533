/* Children and nurseries. Internal. */
#ifndef TR_CORE_SPAWN_SPAWN_H
#define TR_CORE_SPAWN_SPAWN_H

#include "core/runtime/rt.h"

struct tr__child {
    tr__child_t *next;      /* rt->children */
    tr__child_t *next_in_n; /* nursery's list */
    tr_runtime_t *rt;
    tr_nursery_t *nursery;
    char name[128], uuid[64], lang[16], loglevel[16];
    char modules[1024];
    char command[512];
    uv_poll_t exitpoll; /* readable when the child exits (its pidfd) */
    int pidfd;
    int pid, spawned, exited, proc_closed, term_signal;
    int64_t exit_status;
    tr__chan_t *chan;
    int connected, chan_closed;
    tr_error_t *boot_error;
    int is_ria;
    tr_ctx_t *ria_ctx;
    tr_ctx_t *cancel_ctx;
    tr_portal_t *portal; /* the nursery's own reference */
};

struct tr_nursery {
    tr_runtime_t *rt;
    tr__child_t *children;
    pthread_cond_t cond;
    int closing;
    tr_nursery_t *next; /* rt's open nurseries */
};

int tr__child_spawn(tr__child_t *ch);
void tr__child_kill(tr__child_t *ch, int sig);
void tr__child_unlink_sock(tr__child_t *ch);
tr_portal_t *tr__portal_new(tr_runtime_t *rt, tr__chan_t *chan, tr__child_t *child);

/* the runtime's hooks into this layer (tr__rt_ops_t, installed by capi/) */
int tr__spawn_on_handshake(tr_runtime_t *rt, tr__chan_t *c); /* I/O thread */
void tr__spawn_on_chan_error(tr_runtime_t *rt, tr__chan_t *c, tr_error_t *e);
void tr__spawn_on_chan_close(tr_runtime_t *rt, tr__chan_t *c);
void tr__children_kill_all(tr_runtime_t *rt, int sig);
void tr__nurseries_close_all(tr_runtime_t *rt);


/* ---- entry points of the public layer --------------------------------
 * capi/ defines each public tr_X over the tr__X here; the contract of each
 * (blocking, ownership, errors) is tr_X's comment in tractor/tractor.h. */
void tr__spawn_opts_init(tr_spawn_opts_t *opts);
int tr__nursery_open(tr_runtime_t *rt, tr_nursery_t **out);
int tr__nursery_start_actor(tr_nursery_t *n, const char *name, const tr_spawn_opts_t *opts, tr_portal_t **portal, tr_error_t **err, int timeout_ms);
int tr__nursery_run_in_actor(tr_nursery_t *n, const char *name, const char *ns, const char *func, const void *kwargs, size_t kwargs_len, const tr_spawn_opts_t *opts, tr_portal_t **portal, tr_error_t **err, int timeout_ms);
int tr__nursery_cancel(tr_nursery_t *n);
int tr__nursery_close(tr_nursery_t *n, int block_error, tr_error_t **err);
size_t tr__nursery_child_count(tr_nursery_t *n);

#endif
