/* Version, error names, buffers, function registration, C modules (behind
 * capi/misc.c and capi/runtime.c). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

#define TR__STR2(x) #x
#define TR__STRV(x) TR__STR2(x)

const char *tr__version(void) {
    return TR__STRV(TR_VERSION_MAJOR) "." TR__STRV(TR_VERSION_MINOR) "." TR__STRV(TR_VERSION_PATCH);
}
unsigned tr__version_hex(void) { return TR_VERSION_HEX; }

const char *tr__strerror(int err) {
    switch (err) {
#define XX(name, code, text) case TR_##name: return text;
        TR_ERRNO_MAP(XX)
#undef XX
    case 0: return "success";
    default: return "unknown error";
    }
}

const char *tr__err_name(int err) {
    switch (err) {
#define XX(name, code, text) case TR_##name: return "TR_" #name;
        TR_ERRNO_MAP(XX)
#undef XX
    case 0: return "OK";
    default: return "TR_EUNKNOWN";
    }
}

void tr__buf_release(tr_buf_t *b) {
    if (!b) return;
    if (b->_ref) tr__chunk_release((tr__chunk_t *)b->_ref);
    memset(b, 0, sizeof *b);
}

int tr__register_func(tr_runtime_t *rt, const char *ns, const char *name, tr_functype_t kind,
                     tr_func_t fn, void *ud, const char *pld_spec) {
    if (!rt || !ns || !name || !fn || !*ns || !*name) return TR_EINVAL;
    if (!strcmp(ns, "self")) return TR_EINVAL;
    if (kind != TR_FUNC_ASYNCFUNC && kind != TR_FUNC_CONTEXT) return TR_EINVAL;
    if (pld_spec) {
        tr__pldspec_t *s;
        char err[200];
        if (tr__pldspec_compile(pld_spec, &s, err, sizeof err) != 0) {
            TR__LOG(rt, TR_LOG_ERROR, "rpc", "bad pld_spec for %s.%s: %s", ns, name, err);
            return TR_EINVAL;
        }
        tr__pldspec_free(s);
    }
    tr__func_t *f = calloc(1, sizeof *f);
    if (!f) return TR_ENOMEM;
    f->ns = tr__strdup(ns);
    f->name = tr__strdup(name);
    f->kind = kind;
    f->fn = fn;
    f->ud = ud;
    f->pld_spec = tr__strdup(pld_spec);
    pthread_mutex_lock(&rt->mu);
    for (tr__func_t *g = rt->funcs; g; g = g->next)
        if (!strcmp(g->ns, ns) && !strcmp(g->name, name)) {
            pthread_mutex_unlock(&rt->mu);
            free(f->ns);
            free(f->name);
            free(f->pld_spec);
            free(f);
            return TR_EEXIST;
        }
    f->next = rt->funcs;
    rt->funcs = f;
    pthread_mutex_unlock(&rt->mu);
    return 0;
}

int tr__load_c_module(tr_runtime_t *rt, const char *name, char *errbuf, size_t errlen) {
    if (!rt || !name || !*name) return TR_EINVAL;
    char sym[256], base[256];
    snprintf(base, sizeof base, "%s", name);
    for (char *p = base; *p; p++)
        if (*p == '.') *p = '_';
    snprintf(sym, sizeof sym, "tr_module_init_%s", base);
    const char *path = rt->module_path ? rt->module_path : "";
    char *paths = tr__strdup(path), *save = NULL;
    void *h = NULL;
    char tried[1024] = "";
    size_t tl = 0;
    for (char *d = strtok_r(paths, ":", &save); d && !h; d = strtok_r(NULL, ":", &save)) {
        const char *fmts[] = {"%s/lib%s.so", "%s/%s.so"};
        for (int i = 0; i < 2 && !h; i++) {
            char full[1024];
            snprintf(full, sizeof full, fmts[i], d, base);
            h = dlopen(full, RTLD_NOW | RTLD_LOCAL);
            if (tl < sizeof tried - 1)
                tl += (size_t)snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? ", " : "", full);
        }
    }
    free(paths);
    if (!h) {
        char so[300];
        snprintf(so, sizeof so, "lib%s.so", base);
        h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) {
        if (errbuf)
            snprintf(errbuf, errlen, "no C module `%s` (tried %s and the system path: %s)", name,
                     tried[0] ? tried : "no module path", dlerror());
        return TR_ENOTFOUND;
    }
    int (*init)(tr_runtime_t *);
    void *symp = dlsym(h, sym);
    memcpy(&init, &symp, sizeof init); /* POSIX: dlsym returns functions as void * */
    if (!init) {
        if (errbuf) snprintf(errbuf, errlen, "C module `%s` has no `%s` function", name, sym);
        dlclose(h);
        return TR_ENOTFOUND;
    }
    int rc = init(rt);
    if (rc && errbuf) snprintf(errbuf, errlen, "`%s` failed: %s", sym, tr__strerror(rc));
    return rc;
}
