/* The public layer: version, error names and buffers.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/runtime/rt.h"

const char *tr_version(void) {
    return tr__version();
}

unsigned tr_version_hex(void) {
    return tr__version_hex();
}

const char *tr_strerror(int err) {
    return tr__strerror(err);
}

const char *tr_err_name(int err) {
    return tr__err_name(err);
}

void tr_buf_release(tr_buf_t *buf) {
    tr__buf_release(buf);
}
