/* An error raised in a child propagates to the parent boxed: it keeps the
 * original type name, message and traceback, and tells where it came from.
 * The nursery then cancels the other children (one cancels all).
 *
 * Port of tractor's examples/remote_error_propagation.py; the children
 * serve errors_mod.c.
 *   build/examples/c/remote_error_propagation */
#include "ex_util.h"

int main(void) {
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "errors_mod";
    /* a daemon that would run forever: the failure cancels it */
    tr_portal_t *bystander, *errorer;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "bystander", &so, &bystander, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);
    int bystander_pid = tr_portal_pid(bystander);
    rc = tr_nursery_run_in_actor(n, "errorer", "errors_mod", "assert_err", NULL, 0, &so, &errorer, &err, 10000);
    if (rc) ex_die("run_in_actor", rc, err);
    tr_portal_release(bystander);
    tr_portal_release(errorer);

    /* closing the nursery collects the failure, cancels the bystander */
    rc = tr_nursery_close(n, 0, &err);
    if (rc != TR_EREMOTE || !err) {
        fprintf(stderr, "the error did not propagate (%s)\n", tr_err_name(rc));
        return 1;
    }
    printf("caught %s from %s: %s\n", tr_error_type(err), tr_error_src_name(err), tr_error_message(err));
    printf("remote traceback:\n%s", tr_error_traceback(err));
    int ok = !strcmp(tr_error_type(err), "AssertionError") && !strcmp(tr_error_src_name(err), "errorer");
    tr_error_free(err);
    printf("the bystander (pid %d) was cancelled: %s\n", bystander_pid,
           kill(bystander_pid, 0) != 0 ? "yes" : "no");
    tr_runtime_close(rt);
    return ok && !ex_children_left() ? 0 : 1;
}
