/* tr_error_t: boxed remote errors, local errors and error groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

static char *dup_str(tr__str_t s) { return tr__strndup(s.p ? s.p : "", s.n); }

int tr__error_code_for_type(const char *type) {
    if (!type) return TR_EREMOTE;
    if (!strcmp(type, "ContextCancelled")) return TR_ECTXCANCELLED;
    if (!strcmp(type, "StreamOverrun")) return TR_EOVERRUN;
    if (!strcmp(type, "MsgTypeError")) return TR_EMSGTYPE;
    if (!strcmp(type, "TransportClosed")) return TR_ETRANSPORT;
    return TR_EREMOTE;
}

tr_error_t *tr__error_from_msg(const tr__msg_error_t *e, const tr__str_t *cid) {
    tr_error_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->type = dup_str(e->boxed_type_str);
    r->src_type = dup_str(e->src_type_str);
    r->message = dup_str(e->has_message ? e->message : (tr__str_t){"", 0});
    r->tb = dup_str(e->tb_str);
    r->src_name = dup_str(e->src_uid.name);
    r->src_uuid = dup_str(e->src_uid.uuid);
    if (e->has_canceller) {
        r->canceller_name = dup_str(e->canceller.name);
        r->canceller_uuid = dup_str(e->canceller.uuid);
    }
    if (e->has_sender) {
        r->sender_name = dup_str(e->sender.name);
        r->sender_uuid = dup_str(e->sender.uuid);
    }
    if (cid) r->cid = dup_str(*cid);
    /* relay_path: array of [name, uuid] */
    tr__mp_reader_t rd;
    tr__mp_tok_t t;
    tr__mp_reader_init(&rd, e->relay_path.p, e->relay_path.n);
    if (e->relay_path.n && tr__mp_next(&rd, &t) == 0 && t.kind == TR__MP_ARRAY) {
        r->relay_name = calloc(t.count + 1, sizeof(char *));
        r->relay_uuid = calloc(t.count + 1, sizeof(char *));
        for (uint32_t i = 0; i < t.count && r->relay_name && r->relay_uuid; i++) {
            tr__mp_tok_t a;
            tr__str_t n, u;
            if (tr__mp_next(&rd, &a) || a.kind != TR__MP_ARRAY || a.count != 2 ||
                tr__mp_read_str(&rd, &n) || tr__mp_read_str(&rd, &u))
                break;
            r->relay_name[r->n_relay] = dup_str(n);
            r->relay_uuid[r->n_relay] = dup_str(u);
            r->n_relay++;
        }
    }
    /* The boxed type decides the class, except that a relayed error keeps
     * the classification of the original only for ContextCancelled. */
    r->code = tr__error_code_for_type(r->type);
    return r;
}

tr_error_t *tr__error_local(int code, const char *type, const char *msg) {
    tr_error_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->code = code;
    r->type = tr__strdup(type ? type : tr__err_name(code));
    r->src_type = tr__strdup(r->type);
    r->message = tr__strdup(msg ? msg : tr__strerror(code));
    r->tb = tr__strdup("");
    return r;
}

tr_error_t *tr__error_group(tr_error_t **v, size_t n) {
    if (n == 1) return v[0];
    tr_error_t *g = tr__error_local(TR_EGROUP, "BaseExceptionGroup", NULL);
    if (!g) return NULL;
    free(g->message);
    char buf[96];
    snprintf(buf, sizeof buf, "ActorNursery errored with %zu errors", n);
    g->message = tr__strdup(buf);
    g->group = malloc(n * sizeof *g->group);
    if (g->group) {
        memcpy(g->group, v, n * sizeof *v);
        g->n_group = n;
    }
    return g;
}

static char *maybe_dup(const char *s) { return s ? strdup(s) : NULL; }

tr_error_t *tr__error_copy(const tr_error_t *e) {
    if (!e) return NULL;
    tr_error_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->code = e->code;
    r->type = maybe_dup(e->type);
    r->src_type = maybe_dup(e->src_type);
    r->message = maybe_dup(e->message);
    r->tb = maybe_dup(e->tb);
    r->src_name = maybe_dup(e->src_name);
    r->src_uuid = maybe_dup(e->src_uuid);
    r->canceller_name = maybe_dup(e->canceller_name);
    r->canceller_uuid = maybe_dup(e->canceller_uuid);
    r->sender_name = maybe_dup(e->sender_name);
    r->sender_uuid = maybe_dup(e->sender_uuid);
    r->cid = maybe_dup(e->cid);
    if (e->n_relay) {
        r->relay_name = calloc(e->n_relay, sizeof(char *));
        r->relay_uuid = calloc(e->n_relay, sizeof(char *));
        for (size_t i = 0; i < e->n_relay; i++) {
            r->relay_name[i] = maybe_dup(e->relay_name[i]);
            r->relay_uuid[i] = maybe_dup(e->relay_uuid[i]);
        }
        r->n_relay = e->n_relay;
    }
    if (e->n_group) {
        r->group = calloc(e->n_group, sizeof *r->group);
        for (size_t i = 0; i < e->n_group; i++) r->group[i] = tr__error_copy(e->group[i]);
        r->n_group = e->n_group;
    }
    return r;
}

void tr__error_free(tr_error_t *e) {
    if (!e) return;
    free(e->type);
    free(e->src_type);
    free(e->message);
    free(e->tb);
    free(e->src_name);
    free(e->src_uuid);
    free(e->canceller_name);
    free(e->canceller_uuid);
    free(e->sender_name);
    free(e->sender_uuid);
    free(e->cid);
    for (size_t i = 0; i < e->n_relay; i++) {
        free(e->relay_name[i]);
        free(e->relay_uuid[i]);
    }
    free(e->relay_name);
    free(e->relay_uuid);
    for (size_t i = 0; i < e->n_group; i++) tr__error_free(e->group[i]);
    free(e->group);
    free(e->summary);
    free(e);
}

void tr__error_set_out(tr_error_t **out, tr_error_t *e) {
    if (out) *out = e ? tr__error_copy(e) : NULL;
}

#define GETTER(fn, field)                                   \
    const char *fn(const tr_error_t *e) { return e ? e->field : NULL; }
GETTER(tr__error_type, type)
GETTER(tr__error_src_type, src_type)
GETTER(tr__error_message, message)
GETTER(tr__error_traceback, tb)
GETTER(tr__error_src_name, src_name)
GETTER(tr__error_src_uuid, src_uuid)
GETTER(tr__error_canceller_name, canceller_name)
GETTER(tr__error_canceller_uuid, canceller_uuid)
GETTER(tr__error_sender_name, sender_name)
GETTER(tr__error_sender_uuid, sender_uuid)
GETTER(tr__error_cid, cid)
#undef GETTER

int tr__error_code(const tr_error_t *e) { return e ? e->code : 0; }
size_t tr__error_relay_len(const tr_error_t *e) { return e ? e->n_relay : 0; }
const char *tr__error_relay_name(const tr_error_t *e, size_t i) {
    return e && i < e->n_relay ? e->relay_name[i] : NULL;
}
const char *tr__error_relay_uuid(const tr_error_t *e, size_t i) {
    return e && i < e->n_relay ? e->relay_uuid[i] : NULL;
}
size_t tr__error_group_len(const tr_error_t *e) { return e ? e->n_group : 0; }
const tr_error_t *tr__error_group_at(const tr_error_t *e, size_t i) {
    return e && i < e->n_group ? e->group[i] : NULL;
}

const char *tr__error_str(const tr_error_t *e) {
    if (!e) return NULL;
    tr_error_t *m = (tr_error_t *)e; /* the summary is a lazily built cache */
    if (m->summary) return m->summary;
    size_t cap = 256 + (e->message ? strlen(e->message) : 0);
    for (size_t i = 0; i < e->n_relay; i++) cap += strlen(e->relay_name[i]) + 4;
    char *s = malloc(cap);
    if (!s) return "(out of memory)";
    int o = snprintf(s, cap, "%s('%s')", e->type ? e->type : "?",
                     e->message ? e->message : "");
    if (e->src_name && o >= 0 && (size_t)o < cap)
        o += snprintf(s + o, cap - (size_t)o, " from %s[%.8s]", e->src_name,
                      e->src_uuid ? e->src_uuid : "");
    for (size_t i = 0; i < e->n_relay && o >= 0 && (size_t)o < cap; i++)
        o += snprintf(s + o, cap - (size_t)o, "%s%s", i ? " -> " : " via ",
                      e->relay_name[i]);
    if (e->canceller_name && o >= 0 && (size_t)o < cap)
        snprintf(s + o, cap - (size_t)o, " (cancelled by %s)", e->canceller_name);
    m->summary = s;
    return s;
}
