/* The public layer: boxed errors (tr_error_t) and their accessors.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/runtime/rt.h"

const char *tr_error_type(const tr_error_t *e) {
    return tr__error_type(e);
}

const char *tr_error_src_type(const tr_error_t *e) {
    return tr__error_src_type(e);
}

const char *tr_error_message(const tr_error_t *e) {
    return tr__error_message(e);
}

const char *tr_error_traceback(const tr_error_t *e) {
    return tr__error_traceback(e);
}

int tr_error_code(const tr_error_t *e) {
    return tr__error_code(e);
}

const char *tr_error_src_name(const tr_error_t *e) {
    return tr__error_src_name(e);
}

const char *tr_error_src_uuid(const tr_error_t *e) {
    return tr__error_src_uuid(e);
}

size_t tr_error_relay_len(const tr_error_t *e) {
    return tr__error_relay_len(e);
}

const char *tr_error_relay_name(const tr_error_t *e, size_t i) {
    return tr__error_relay_name(e, i);
}

const char *tr_error_relay_uuid(const tr_error_t *e, size_t i) {
    return tr__error_relay_uuid(e, i);
}

const char *tr_error_canceller_name(const tr_error_t *e) {
    return tr__error_canceller_name(e);
}

const char *tr_error_canceller_uuid(const tr_error_t *e) {
    return tr__error_canceller_uuid(e);
}

const char *tr_error_sender_name(const tr_error_t *e) {
    return tr__error_sender_name(e);
}

const char *tr_error_sender_uuid(const tr_error_t *e) {
    return tr__error_sender_uuid(e);
}

const char *tr_error_cid(const tr_error_t *e) {
    return tr__error_cid(e);
}

size_t tr_error_group_len(const tr_error_t *e) {
    return tr__error_group_len(e);
}

const tr_error_t *tr_error_group_at(const tr_error_t *e, size_t i) {
    return tr__error_group_at(e, i);
}

const char *tr_error_str(const tr_error_t *e) {
    return tr__error_str(e);
}

tr_error_t *tr_error_copy(const tr_error_t *e) {
    return tr__error_copy(e);
}

void tr_error_free(tr_error_t *e) {
    tr__error_free(e);
}
