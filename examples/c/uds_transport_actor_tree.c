/* An actor tree over unix domain sockets instead of TCP: open the root with
 * transport "uds" and every child inherits it. Each actor listens on a
 * socket file in the runtime directory (<rt dir>/<name>@<pid>.sock), which
 * is removed when it ends.
 *
 * Port of tractor's examples/uds_transport_actor_tree.py, one level deeper;
 * the actors serve uds_mod.c.
 *   build/examples/c/uds_transport_actor_tree */
#include "ex_util.h"

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* a self-contained tree (no registrar: the default UDS registry socket,
     * registry@1616.sock, is machine-wide) */
    tr_runtime_t *rt = ex_open_root("root", "uds", 0);
    char addr[300];
    tr_runtime_addr(rt, addr, sizeof addr);
    printf("root: %s@%s\n", tr_runtime_name(rt), addr);
    int ok = !strncmp(addr, "/unix/", 6);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "uds_mod";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "uds_child", &so, &p, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);
    tr_buf_t res;
    if ((rc = tr_portal_run(p, "uds_mod", "spawn_grandchild", NULL, 0, &res, &err, 20000)))
        ex_die("spawn_grandchild", rc, err);
    ex_obj_t o;
    const msgpack_object *lines = ex_unpack(&o, res.data, res.len);
    ok = ok && lines->type == MSGPACK_OBJECT_ARRAY && lines->via.array.size == 2;
    for (uint32_t i = 0; ok && i < lines->via.array.size; i++) {
        char line[400];
        ex_as_str(&lines->via.array.ptr[i], line, sizeof line);
        printf("  %s\n", line);
        ok = ok && strstr(line, "@/unix/") && strstr(line, ".sock pid=");
    }
    ex_obj_free(&o);
    tr_buf_release(&res);
    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    tr_nursery_close(n, 0, NULL);
    tr_runtime_close(rt);
    return ok && !ex_children_left() ? 0 : 1;
}
