/* Service discovery: actors find each other by name through the registrar
 * (here the root, which elected itself registrar on a free port), not
 * through their parent.
 *
 * After tractor's examples/service_discovery.py and a_trynamic_first_scene.py;
 * the actors serve peers_mod.c.
 *   build/examples/c/service_discovery */
#include "ex_util.h"

static void hello(tr_portal_t *p, const char *other) {
    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_str(&kw.pk, "other", other);
    tr_buf_t res;
    tr_error_t *err = NULL;
    int rc = tr_portal_run(p, "peers_mod", "say_hello", kw.sb.data, kw.sb.size, &res, &err, 20000);
    ex_pack_free(&kw);
    if (rc) ex_die("say_hello", rc, err);
    char out[400];
    printf("%s\n", ex_buf_str(&res, out, sizeof out));
    tr_buf_release(&res);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tr_runtime_t *rt = ex_open_root("root", NULL, 1);
    char addr[256];
    tr_runtime_addr(rt, addr, sizeof addr);
    printf("the registrar is %s at %s (registrar: %s)\n", tr_runtime_name(rt), addr,
           tr_runtime_is_registrar(rt) ? "yes" : "no");
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "peers_mod";
    tr_portal_t *donny, *gretchen;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "donny", &so, &donny, &err, 10000);
    if (!rc) rc = tr_nursery_start_actor(n, "gretchen", &so, &gretchen, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    hello(donny, "gretchen");
    hello(gretchen, "donny");

    /* the registry: {"name.uuid": [addr, ...]} */
    tr_buf_t reg;
    if ((rc = tr_get_registry(rt, &reg, 5000))) ex_die("get_registry", rc, NULL);
    ex_obj_t o;
    const msgpack_object *m = ex_unpack(&o, reg.data, reg.len);
    int found = 0;
    for (uint32_t i = 0; m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
        char key[128];
        ex_as_str(&m->via.map.ptr[i].key, key, sizeof key);
        char *dot = strchr(key, '.');
        if (dot) *dot = 0;
        printf("  registered: %s\n", key);
        found += !strcmp(key, "donny") || !strcmp(key, "gretchen");
    }
    ex_obj_free(&o);
    tr_buf_release(&reg);
    char where[256];
    if ((rc = tr_query_actor(rt, "gretchen", where, sizeof where, 5000))) ex_die("query_actor", rc, NULL);
    printf("gretchen is found at %s\n", where);

    tr_portal_release(donny);
    tr_portal_release(gretchen);
    tr_nursery_cancel(n); /* the daemons are done */
    tr_nursery_close(n, 0, NULL);
    tr_runtime_close(rt);
    return found == 2 && !ex_children_left() ? 0 : 1;
}
