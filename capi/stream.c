/* The public layer: streams inside a context.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/runtime/rt.h"

int tr_stream_send(tr_stream_t *s, const void *buf, size_t len, tr_error_t **err) {
    return tr__stream_send(s, buf, len, err);
}

int tr_stream_recv(tr_stream_t *s, tr_buf_t *out, tr_error_t **err, int timeout_ms) {
    return tr__stream_recv(s, out, err, timeout_ms);
}

int tr_stream_close(tr_stream_t *s) {
    return tr__stream_close(s);
}

int tr_stream_subscribe(tr_stream_t *s, tr_stream_t **out) {
    return tr__stream_subscribe(s, out);
}

tr_ctx_t *tr_stream_ctx(tr_stream_t *s) {
    return tr__stream_ctx(s);
}

void tr_stream_release(tr_stream_t *s) {
    tr__stream_release(s);
}
