/* The public layer: contexts: linked remote tasks, both the caller's and the callee's side.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/runtime/rt.h"

void tr_ctx_opts_init(tr_ctx_opts_t *opts) {
    tr__ctx_opts_init(opts);
}

int tr_ctx_wait_started(tr_ctx_t *ctx, tr_buf_t *first, tr_error_t **err, int timeout_ms) {
    return tr__ctx_wait_started(ctx, first, err, timeout_ms);
}

int tr_ctx_started(tr_ctx_t *ctx, const void *buf, size_t len) {
    return tr__ctx_started(ctx, buf, len);
}

int tr_ctx_open_stream(tr_ctx_t *ctx, tr_stream_t **out) {
    return tr__ctx_open_stream(ctx, out);
}

int tr_ctx_cancel(tr_ctx_t *ctx, const char *reason) {
    return tr__ctx_cancel(ctx, reason);
}

int tr_ctx_wait_for_result(tr_ctx_t *ctx, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    return tr__ctx_wait_for_result(ctx, result, err, timeout_ms);
}

int tr_ctx_result(tr_ctx_t *ctx, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    return tr__ctx_result(ctx, result, err, timeout_ms);
}

int tr_ctx_has_outcome(tr_ctx_t *ctx) {
    return tr__ctx_has_outcome(ctx);
}

int tr_ctx_cancel_called(tr_ctx_t *ctx) {
    return tr__ctx_cancel_called(ctx);
}

int tr_ctx_cancel_acked(tr_ctx_t *ctx) {
    return tr__ctx_cancel_acked(ctx);
}

int tr_ctx_canceller(tr_ctx_t *ctx, const char **name, const char **uuid) {
    return tr__ctx_canceller(ctx, name, uuid);
}

const char *tr_ctx_cid(tr_ctx_t *ctx) {
    return tr__ctx_cid(ctx);
}

const char *tr_ctx_ns(tr_ctx_t *ctx) {
    return tr__ctx_ns(ctx);
}

const char *tr_ctx_func(tr_ctx_t *ctx) {
    return tr__ctx_func(ctx);
}

int tr_ctx_kind(tr_ctx_t *ctx) {
    return tr__ctx_kind(ctx);
}

void *tr_ctx_userdata(tr_ctx_t *ctx) {
    return tr__ctx_userdata(ctx);
}

int tr_ctx_kwargs(tr_ctx_t *ctx, const void **buf, size_t *len) {
    return tr__ctx_kwargs(ctx, buf, len);
}

const char *tr_ctx_peer_name(tr_ctx_t *ctx) {
    return tr__ctx_peer_name(ctx);
}

const char *tr_ctx_peer_uuid(tr_ctx_t *ctx) {
    return tr__ctx_peer_uuid(ctx);
}

tr_runtime_t *tr_ctx_runtime(tr_ctx_t *ctx) {
    return tr__ctx_runtime(ctx);
}

int tr_ctx_set_result(tr_ctx_t *ctx, const void *buf, size_t len) {
    return tr__ctx_set_result(ctx, buf, len);
}

int tr_ctx_set_error(tr_ctx_t *ctx, const char *type, const char *message, const char *tb) {
    return tr__ctx_set_error(ctx, type, message, tb);
}

int tr_ctx_set_remote_error(tr_ctx_t *ctx, const tr_error_t *e) {
    return tr__ctx_set_remote_error(ctx, e);
}

int tr_ctx_finish(tr_ctx_t *ctx, int rc) {
    return tr__ctx_finish(ctx, rc);
}

int tr_ctx_set_overruns(tr_ctx_t *ctx, int allow, int msg_buffer_size) {
    return tr__ctx_set_overruns(ctx, allow, msg_buffer_size);
}

int tr_ctx_limit_plds(tr_ctx_t *ctx, const char *pld_spec) {
    return tr__ctx_limit_plds(ctx, pld_spec);
}

int tr_ctx_close(tr_ctx_t *ctx, int block_error) {
    return tr__ctx_close(ctx, block_error);
}

tr_ctx_t *tr_ctx_retain(tr_ctx_t *ctx) {
    return tr__ctx_retain(ctx);
}

void tr_ctx_release(tr_ctx_t *ctx) {
    tr__ctx_release(ctx);
}
