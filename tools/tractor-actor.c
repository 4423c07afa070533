/* tractor-actor: the host program for C child actors.
 *
 *   tractor-actor --uid "('name', 'uuid')" --parent_addr "('127.0.0.1', 1234)" [--loglevel L]
 *
 * Connects back to the parent, receives the SpawnSpec, loads every module in
 * enable_modules as a shared object (lib<name>.so on TRACTOR_MODULE_PATH,
 * init symbol tr_module_init_<name>), serves until cancelled, exits 0. */
#include <stdio.h>
#include <string.h>

#include "tractor/tractor.h"

int main(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: %s --uid \"('name', 'uuid')\" --parent_addr \"('host', port)\" [--loglevel LEVEL]\n"
               "Runs a libtractor C child actor (started by a parent's nursery).\n"
               "Modules are found on $TRACTOR_MODULE_PATH (lib<name>.so exporting tr_module_init_<name>).\n",
               argv[0]);
        return 0;
    }
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.child_argc = argc;
    o.child_argv = argv;
    tr_runtime_t *rt;
    int rc = tr_runtime_open(&o, &rt);
    if (rc) {
        fprintf(stderr, "tractor-actor: cannot start: %s\n", tr_strerror(rc));
        return 2;
    }
    for (size_t i = 0; i < tr_runtime_enabled_module_count(rt); i++) {
        const char *m = tr_runtime_enabled_module(rt, i);
        char err[1024];
        rc = tr_load_c_module(rt, m, err, sizeof err);
        if (rc) {
            tr_log(rt, TR_LOG_ERROR, "child", "loading module %s failed: %s", m, err);
            tr_runtime_boot_failed(rt, "ModuleNotFoundError", err, "");
            tr_runtime_close(rt);
            return 1;
        }
    }
    rc = tr_runtime_serve(rt);
    if (rc == 0) tr_runtime_wait(rt, -1);
    tr_runtime_close(rt);
    return rc ? 1 : 0;
}
