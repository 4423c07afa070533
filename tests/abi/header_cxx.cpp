// The public header compiles as C++ (extern "C", no C-only constructs) with
// every warning an error; the program checks the version macros against
// the loaded library, so a C++ program links and runs against it too.
#include <tractor/tractor.h>

#include <cstdio>
#include <cstring>

static_assert(sizeof(tr_buf_t) == 3 * sizeof(void *), "tr_buf_t layout");

int main() {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    tr_error_t *err = nullptr;
    tr_buf_t b{};
    tr_buf_release(&b);
    tr_error_free(err);
    if (tr_version_hex() != TR_VERSION_HEX) return 1;
    if (std::strcmp(tr_err_name(TR_EEOC), "TR_EEOC") != 0) return 2;
    if (o.size != sizeof o) return 3;
    std::printf("ok: C++ build against libtractor %s\n", tr_version());
    return 0;
}
