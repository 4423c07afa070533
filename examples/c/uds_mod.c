/* uds_mod: served by the actors of uds_transport_actor_tree.
 *   report_addr()      -> "<name>@<address> pid=<pid>"
 *   spawn_grandchild() -> spawns uds_grandchild; [our report, its report] */
#include "ex_util.h"

static void report(tr_runtime_t *rt, char *out, size_t len) {
    char addr[300];
    tr_runtime_addr(rt, addr, sizeof addr);
    snprintf(out, len, "%s@%s pid=%d", tr_runtime_name(rt), addr, (int)getpid());
}

static int report_addr(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    char out[400];
    report(tr_ctx_runtime(ctx), out, sizeof out);
    return ex_return_str(ctx, out);
}

static int spawn_grandchild(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_nursery_t *n;
    int rc = tr_nursery_open(rt, &n);
    if (rc) return rc;
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "uds_mod";
    tr_portal_t *p;
    tr_buf_t theirs = {0};
    rc = tr_nursery_start_actor(n, "uds_grandchild", &so, &p, NULL, 10000);
    if (!rc) {
        rc = tr_portal_run(p, "uds_mod", "report_addr", NULL, 0, &theirs, NULL, 10000);
        tr_portal_cancel_actor(p, -1);
        tr_portal_release(p);
    }
    tr_nursery_close(n, rc != 0, NULL);
    if (rc) return rc;
    char mine[400];
    report(rt, mine, sizeof mine);
    ex_pack_t out;
    ex_pack_init(&out);
    msgpack_pack_array(&out.pk, 2);
    ex_str(&out, mine);
    msgpack_sbuffer_write(&out.sb, theirs.data, theirs.len); /* already msgpack */
    tr_buf_release(&theirs);
    rc = tr_ctx_set_result(ctx, out.sb.data, out.sb.size);
    ex_pack_free(&out);
    return rc;
}

int tr_module_init_uds_mod(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "uds_mod", "report_addr", TR_FUNC_ASYNCFUNC, report_addr, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "uds_mod", "spawn_grandchild", TR_FUNC_ASYNCFUNC, spawn_grandchild, NULL, NULL);
    return rc;
}
