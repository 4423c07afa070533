/* A daemon actor: start_actor spawns a child that serves until it is
 * cancelled; call it as often as you like, then cancel_actor ends it.
 *
 * Port of tractor's examples/actor_spawning_and_causality_with_daemon.py;
 * the child serves causality_mod.c.
 *   build/examples/c/actor_spawning_and_causality_with_daemon */
#include "ex_util.h"

static void call(tr_portal_t *p, const char *func, const char *msg) {
    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, msg ? 1 : 0);
    if (msg) {
        tr_mp_pack_kv_str(&kw.pk, "msg", msg);
    }
    tr_buf_t res;
    tr_error_t *err = NULL;
    int rc = tr_portal_run(p, "causality_mod", func, kw.sb.data, kw.sb.size, &res, &err, 10000);
    ex_pack_free(&kw);
    if (rc) ex_die(func, rc, err);
    char out[400];
    printf("%s\n", ex_buf_str(&res, out, sizeof out));
    tr_buf_release(&res);
}

int main(void) {
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "causality_mod";
    tr_portal_t *frank;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "frank", &so, &frank, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    /* the daemon keeps serving */
    call(frank, "movie_theatre_question", NULL);
    call(frank, "cellar_door", "beautiful");
    call(frank, "movie_theatre_question", NULL);

    /* daemons live until cancelled: the nursery would wait for it otherwise */
    rc = tr_portal_cancel_actor(frank, -1);
    printf("frank acknowledged the cancel: %s\n", rc == 0 ? "yes" : tr_err_name(rc));
    tr_portal_release(frank);
    if (tr_nursery_close(n, 0, &err)) ex_die("closing the nursery", TR_EREMOTE, err);
    tr_runtime_close(rt);
    return rc || ex_children_left() ? 1 : 0;
}
