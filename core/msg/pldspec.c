/* Payload specs: a small type language for what a context's Started, Yield
 * and Return payloads may hold (tractor's `pld_spec` / `limit_plds`).
 *
 * The text is compiled once into a tree of nodes; checking walks a raw
 * msgpack value against the tree with the bounded reader, building a path
 * ("$.items[2]") only as deep as the spec itself goes, so recursion depth
 * is bounded by the spec (at most MAX_NEST levels), not by the input. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tractor/tractor.h"

#define MAX_NEST 32     /* '[' / '{' nesting in a spec */
#define MAX_MAP_KEYS 64 /* required keys in one '{...}' (a 64-bit mask) */

typedef enum {
    PS_ANY, PS_NIL, PS_BOOL, PS_INT, PS_FLOAT, PS_STR, PS_BYTES, PS_LIST,
    PS_DICT, PS_ARRAY, PS_MAP, PS_UNION
} ps_kind_t;

static const char *const ps_names[] = {
    "any", "nil", "bool", "int", "float", "str", "bytes", "list", "dict",
};
#define N_NAMED (sizeof ps_names / sizeof ps_names[0])

typedef struct ps_node {
    ps_kind_t kind;
    uint32_t n;            /* ARRAY: 1; MAP: keys; UNION: alternatives */
    struct ps_node **kids; /* ARRAY: element; MAP: value specs; UNION */
    char **keys;           /* MAP: required keys (NUL-terminated copies) */
    char *text;            /* canonical text, for messages */
} ps_node_t;

struct tr__pldspec {
    ps_node_t *root;
};

/* ==================================================================== */
/* nodes                                                                 */
/* ==================================================================== */

static void node_free(ps_node_t *n) {
    if (!n)
        return;
    for (uint32_t i = 0; i < n->n; i++) {
        node_free(n->kids[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    free(n->text);
    free(n);
}

static ps_node_t *node_new(ps_kind_t k) {
    ps_node_t *n = calloc(1, sizeof *n);
    if (n)
        n->kind = k;
    return n;
}

/* Append one child (and key, for maps). 0 or -1 (out of memory). */
static int node_add(ps_node_t *n, ps_node_t *kid, char *key) {
    ps_node_t **kids = realloc(n->kids, (n->n + 1) * sizeof *kids);
    if (!kids)
        return -1;
    n->kids = kids;
    if (n->kind == PS_MAP) {
        char **keys = realloc(n->keys, (n->n + 1) * sizeof *keys);
        if (!keys)
            return -1;
        n->keys = keys;
        keys[n->n] = key;
    }
    kids[n->n++] = kid;
    return 0;
}

static int is_ident_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_ident(int c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}
static int key_is_ident(const char *k) {
    if (!is_ident_start((unsigned char)k[0]))
        return 0;
    for (; *k; k++)
        if (!is_ident((unsigned char)*k))
            return 0;
    return 1;
}

/* ---- canonical text ----------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void sb_cstr(sbuf_t *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Build n->text from its children's texts. 0 or -1. */
static int node_set_text(ps_node_t *n) {
    sbuf_t b = {NULL, 0, 0, 0};
    switch (n->kind) {
    case PS_ARRAY:
        sb_cstr(&b, "[");
        sb_cstr(&b, n->kids[0]->text);
        sb_cstr(&b, "]");
        break;
    case PS_MAP:
        sb_cstr(&b, "{");
        for (uint32_t i = 0; i < n->n; i++) {
            int q = !key_is_ident(n->keys[i]);
            if (i)
                sb_cstr(&b, ",");
            sb_cstr(&b, q ? "\"" : "");
            sb_cstr(&b, n->keys[i]);
            sb_cstr(&b, q ? "\":" : ":");
            sb_cstr(&b, n->kids[i]->text);
        }
        sb_cstr(&b, "}");
        break;
    case PS_UNION:
        for (uint32_t i = 0; i < n->n; i++) {
            if (i)
                sb_cstr(&b, "|");
            sb_cstr(&b, n->kids[i]->text);
        }
        break;
    default:
        sb_cstr(&b, ps_names[n->kind]);
        break;
    }
    if (b.oom) {
        free(b.p);
        return -1;
    }
    n->text = b.p;
    return 0;
}

/* ==================================================================== */
/* parser                                                                */
/* ==================================================================== */

typedef struct parser {
    const char *s;
    size_t pos;
    int depth;
    int rc; /* first error: TR_EINVAL or TR_ENOMEM */
    char *err;
    size_t errlen;
} parser_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void *perr(parser_t *p, const char *fmt, ...) {
    if (p->rc)
        return NULL; /* keep the first message */
    p->rc = TR_EINVAL;
    if (p->err && p->errlen) {
        int k = snprintf(p->err, p->errlen, "bad payload spec: ");
        if (k >= 0 && (size_t)k < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return NULL;
}

static void *poom(parser_t *p) {
    if (!p->rc) {
        p->rc = TR_ENOMEM;
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "payload spec: out of memory");
    }
    return NULL;
}

static void skip_ws(parser_t *p) {
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
           p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
        p->pos++;
}

/* What is at the cursor, for messages: "`x` at offset N" / "end". */
static const char *here(parser_t *p, char buf[48]) {
    char c = p->s[p->pos];
    if (!c)
        snprintf(buf, 48, "end of spec at offset %zu", p->pos);
    else
        snprintf(buf, 48, "`%c` at offset %zu", c, p->pos);
    return buf;
}

static int expect(parser_t *p, char c) {
    char at[48];
    skip_ws(p);
    if (p->s[p->pos] == c) {
        p->pos++;
        return 0;
    }
    perr(p, "expected `%c`, got %s", c, here(p, at));
    return -1;
}

static ps_node_t *parse_spec(parser_t *p);

static ps_node_t *finish(parser_t *p, ps_node_t *n) {
    if (n && node_set_text(n)) {
        node_free(n);
        return poom(p);
    }
    return n;
}

static ps_node_t *parse_array(parser_t *p) {
    ps_node_t *n = node_new(PS_ARRAY), *elem;
    if (!n)
        return poom(p);
    p->pos++; /* '[' */
    if (!(elem = parse_spec(p)) || node_add(n, elem, NULL)) {
        node_free(elem);
        node_free(n);
        return p->rc ? NULL : poom(p);
    }
    if (expect(p, ']')) {
        node_free(n);
        return NULL;
    }
    return finish(p, n);
}

/* A key: an identifier or a double-quoted string (no escapes). */
static char *parse_key(parser_t *p) {
    char at[48];
    size_t start, end;
    skip_ws(p);
    if (p->s[p->pos] == '"') {
        start = ++p->pos;
        while (p->s[p->pos] && p->s[p->pos] != '"')
            p->pos++;
        if (!p->s[p->pos])
            return perr(p, "unterminated key starting at offset %zu",
                        start - 1);
        end = p->pos++;
    } else if (is_ident_start((unsigned char)p->s[p->pos])) {
        start = p->pos;
        while (is_ident((unsigned char)p->s[p->pos]))
            p->pos++;
        end = p->pos;
    } else {
        return perr(p, "expected a key, got %s", here(p, at));
    }
    char *k = malloc(end - start + 1);
    if (!k)
        return poom(p);
    memcpy(k, p->s + start, end - start);
    k[end - start] = 0;
    return k;
}

/* One `key: spec` entry of a map spec, added to n. 0 or -1. */
static int parse_entry(parser_t *p, ps_node_t *n) {
    size_t at = (skip_ws(p), p->pos);
    char *key = parse_key(p);
    ps_node_t *v = NULL;
    if (!key)
        return -1;
    for (uint32_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i], key) == 0) {
            perr(p, "duplicate key `%s` at offset %zu", key, at);
            goto fail;
        }
    if (n->n == MAX_MAP_KEYS) {
        perr(p, "more than %d keys in one map at offset %zu", MAX_MAP_KEYS,
             at);
        goto fail;
    }
    if (expect(p, ':') || !(v = parse_spec(p)))
        goto fail;
    if (node_add(n, v, key)) {
        poom(p);
        goto fail;
    }
    return 0;
fail:
    free(key);
    node_free(v);
    return -1;
}

static ps_node_t *parse_map(parser_t *p) {
    ps_node_t *n = node_new(PS_MAP);
    if (!n)
        return poom(p);
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->s[p->pos] != '}') {
        for (;;) {
            if (parse_entry(p, n))
                goto fail;
            skip_ws(p);
            if (p->s[p->pos] != ',')
                break;
            p->pos++;
        }
    }
    if (expect(p, '}'))
        goto fail;
    return finish(p, n);
fail:
    node_free(n);
    return NULL;
}

static ps_node_t *leaf(parser_t *p, ps_kind_t k) {
    ps_node_t *n = node_new(k);
    return n ? finish(p, n) : poom(p);
}

/* A type name: one of ps_names, or "typing.Any". */
static ps_node_t *parse_named(parser_t *p) {
    size_t start = p->pos;
    while (is_ident((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.')
        p->pos++;
    size_t n = p->pos - start;
    for (unsigned k = 0; k < N_NAMED; k++)
        if (strlen(ps_names[k]) == n &&
            memcmp(p->s + start, ps_names[k], n) == 0)
            return leaf(p, (ps_kind_t)k);
    if (n == 10 && memcmp(p->s + start, "typing.Any", 10) == 0)
        return leaf(p, PS_ANY);
    return perr(p, "unknown type `%.*s` at offset %zu (expected any, nil, "
                   "bool, int, float, str, bytes, list, dict, [..] or {..})",
                (int)(n > 40 ? 40 : n), p->s + start, start);
}

static ps_node_t *parse_alt(parser_t *p) {
    char at[48];
    ps_node_t *n;
    skip_ws(p);
    char c = p->s[p->pos];
    if (c != '[' && c != '{') {
        if (is_ident_start((unsigned char)c))
            return parse_named(p);
        return perr(p, "expected a type, got %s", here(p, at));
    }
    if (p->depth == MAX_NEST)
        return perr(p, "nested deeper than %d levels at offset %zu", MAX_NEST,
                    p->pos);
    p->depth++;
    n = c == '[' ? parse_array(p) : parse_map(p);
    p->depth--;
    return n;
}

/* alt ('|' alt)*; a single alternative is returned as is, and a union
 * that contains `any` collapses to `any`. */
static ps_node_t *parse_spec(parser_t *p) {
    ps_node_t *first = parse_alt(p), *u = NULL, *alt;
    int has_any;
    if (!first)
        return NULL;
    skip_ws(p);
    if (p->s[p->pos] != '|')
        return first;
    if (!(u = node_new(PS_UNION)) || node_add(u, first, NULL)) {
        node_free(u);
        node_free(first);
        return poom(p);
    }
    has_any = first->kind == PS_ANY;
    while ((skip_ws(p), p->s[p->pos] == '|')) {
        p->pos++;
        if (!(alt = parse_alt(p)))
            goto fail;
        has_any |= alt->kind == PS_ANY;
        if (node_add(u, alt, NULL)) {
            node_free(alt);
            poom(p);
            goto fail;
        }
    }
    if (has_any) {
        node_free(u);
        return leaf(p, PS_ANY);
    }
    return finish(p, u);
fail:
    node_free(u);
    return NULL;
}

int tr__pldspec_compile(const char *spec, tr__pldspec_t **out, char *errbuf,
                        size_t errlen) {
    parser_t p = {spec, 0, 0, 0, errbuf, errlen};
    char at[48];
    *out = NULL;
    if (!spec)
        return 0;
    ps_node_t *root = parse_spec(&p);
    if (root) {
        skip_ws(&p);
        if (p.s[p.pos])
            perr(&p, "unexpected %s", here(&p, at));
    }
    if (p.rc) {
        node_free(root);
        return p.rc;
    }
    if (root->kind == PS_ANY) { /* accepts everything: no checks at all */
        node_free(root);
        return 0;
    }
    if (!(*out = malloc(sizeof **out))) {
        node_free(root);
        poom(&p);
        return p.rc;
    }
    (*out)->root = root;
    return 0;
}

void tr__pldspec_free(tr__pldspec_t *s) {
    if (!s)
        return;
    node_free(s->root);
    free(s);
}

const char *tr__pldspec_text(const tr__pldspec_t *s) {
    return s ? s->root->text : "any";
}

/* ==================================================================== */
/* checking                                                              */
/* ==================================================================== */

typedef struct chk {
    char path[256]; /* "$.items[2]"; clipped if deeper than this */
    size_t plen;
    unsigned depth; /* containers entered, for the reader's depth bound */
    char *err;      /* NULL while trying union alternatives quietly */
    size_t errlen;
} chk_t;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int cfail(chk_t *c, int code, const char *fmt, ...) {
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int malformed(chk_t *c, const char *why) {
    return cfail(c, TR_EPROTO, "malformed msgpack payload at %s: %s", c->path,
                 why);
}

static int mismatch(chk_t *c, const ps_node_t *n, tr__mp_kind_t got) {
    return cfail(c, TR_EMSGTYPE, "expected %s, got %s at %s", n->text,
                 tr__mp_kind_name(got), c->path);
}

/* Path segments: push returns the old length for pop. */
static size_t push_index(chk_t *c, uint32_t i) {
    size_t old = c->plen;
    if (old < sizeof c->path) {
        int k = snprintf(c->path + old, sizeof c->path - old, "[%u]",
                         (unsigned)i);
        c->plen = k < 0 ? old : old + (size_t)k;
        if (c->plen >= sizeof c->path)
            c->plen = sizeof c->path - 1;
    }
    return old;
}
static size_t push_key(chk_t *c, const char *key) {
    size_t old = c->plen;
    if (old < sizeof c->path) {
        int k = snprintf(c->path + old, sizeof c->path - old,
                         key_is_ident(key) ? ".%s" : "[\"%s\"]", key);
        c->plen = k < 0 ? old : old + (size_t)k;
        if (c->plen >= sizeof c->path)
            c->plen = sizeof c->path - 1;
    }
    return old;
}
static void pop(chk_t *c, size_t old) {
    c->plen = old;
    c->path[old] = 0;
}

/* Does a value of msgpack kind k have the outer shape node n wants? */
static int kind_ok(ps_kind_t n, tr__mp_kind_t k) {
    switch (n) {
    case PS_ANY: return 1;
    case PS_NIL: return k == TR__MP_NIL;
    case PS_BOOL: return k == TR__MP_BOOL;
    case PS_INT: return k == TR__MP_INT;
    case PS_FLOAT: return k == TR__MP_FLOAT || k == TR__MP_INT;
    case PS_STR: return k == TR__MP_STR;
    case PS_BYTES: return k == TR__MP_BIN;
    case PS_LIST: case PS_ARRAY: return k == TR__MP_ARRAY;
    case PS_DICT: case PS_MAP: return k == TR__MP_MAP;
    default: return 0;
    }
}

static int check(const ps_node_t *n, tr__mp_reader_t *r, chk_t *c);

static int skip_value(tr__mp_reader_t *r, chk_t *c) {
    const char *why;
    return tr__mp_skip_ex(r, c->depth, &why) ? malformed(c, why) : 0;
}

static int check_array(const ps_node_t *n, const tr__mp_tok_t *t,
                       tr__mp_reader_t *r, chk_t *c) {
    int rc = 0;
    c->depth++;
    for (uint32_t i = 0; i < t->count && !rc; i++) {
        size_t old = push_index(c, i);
        rc = check(n->kids[0], r, c);
        if (!rc)
            pop(c, old);
    }
    c->depth--;
    return rc;
}

/* Index of `key` among the required keys of n, or -1. */
static int find_key(const ps_node_t *n, tr__str_t key) {
    for (uint32_t i = 0; i < n->n; i++)
        if (tr__str_eq(key, n->keys[i]))
            return (int)i;
    return -1;
}

static int check_map(const ps_node_t *n, const tr__mp_tok_t *t,
                     tr__mp_reader_t *r, chk_t *c) {
    uint64_t found = 0;
    const char *why;
    int rc = 0;
    c->depth++;
    for (uint32_t i = 0; i < t->count && !rc; i++) {
        tr__mp_reader_t key = *r;
        tr__mp_tok_t k;
        int idx = -1;
        if (tr__mp_next_ex(r, &k, &why)) {
            rc = malformed(c, why);
            break;
        }
        if (k.kind == TR__MP_STR) {
            idx = find_key(n, k.str);
        } else { /* a non-str key, maybe a container: skip it whole */
            *r = key;
            if ((rc = skip_value(r, c)))
                break;
        }
        if (idx < 0) {
            rc = skip_value(r, c);
            continue;
        }
        size_t old = push_key(c, n->keys[idx]);
        rc = check(n->kids[idx], r, c);
        if (!rc)
            pop(c, old);
        found |= (uint64_t)1 << idx;
    }
    c->depth--;
    for (uint32_t i = 0; i < n->n && !rc; i++)
        if (!(found >> i & 1u))
            rc = cfail(c, TR_EMSGTYPE, "missing required key `%s` at %s",
                       n->keys[i], c->path);
    return rc;
}

/* A union: only the alternatives whose outer shape fits are tried. With
 * one such alternative its own (deeper) error is reported; otherwise the
 * whole union is named. */
static int check_union(const ps_node_t *n, tr__mp_reader_t *r, chk_t *c) {
    tr__mp_reader_t peek = *r;
    tr__mp_tok_t t;
    const char *why;
    const ps_node_t *only = NULL;
    unsigned fits = 0;
    if (tr__mp_next_ex(&peek, &t, &why))
        return malformed(c, why);
    for (uint32_t i = 0; i < n->n; i++)
        if (kind_ok(n->kids[i]->kind, t.kind)) { /* alts are never unions */
            fits++;
            only = n->kids[i];
        }
    if (fits == 0)
        return mismatch(c, n, t.kind);
    if (fits == 1)
        return check(only, r, c);
    char *err = c->err;
    c->err = NULL; /* try quietly */
    for (uint32_t i = 0; i < n->n; i++) {
        tr__mp_reader_t attempt = *r;
        size_t plen = c->plen;
        int rc = check(n->kids[i], &attempt, c);
        pop(c, plen);
        if (rc == 0) {
            c->err = err;
            *r = attempt;
            return 0;
        }
        if (rc == TR_EPROTO) { /* report it loudly */
            c->err = err;
            return check(n->kids[i], r, c);
        }
    }
    c->err = err;
    return mismatch(c, n, t.kind);
}

static int check(const ps_node_t *n, tr__mp_reader_t *r, chk_t *c) {
    tr__mp_reader_t start = *r;
    tr__mp_tok_t t;
    const char *why;
    if (n->kind == PS_ANY)
        return skip_value(r, c);
    if (n->kind == PS_UNION)
        return check_union(n, r, c);
    if (tr__mp_next_ex(r, &t, &why))
        return malformed(c, why);
    if (!kind_ok(n->kind, t.kind))
        return mismatch(c, n, t.kind);
    switch (n->kind) {
    case PS_LIST:
    case PS_DICT:
        *r = start;
        return skip_value(r, c);
    case PS_ARRAY:
        return check_array(n, &t, r, c);
    case PS_MAP:
        return check_map(n, &t, r, c);
    default: /* a scalar: the token was the whole value */
        return 0;
    }
}

int tr__pldspec_check(const tr__pldspec_t *s, tr__str_t raw, char *errbuf,
                      size_t errlen) {
    chk_t c;
    tr__mp_reader_t r;
    if (!s)
        return 0;
    c.path[0] = '$';
    c.path[1] = 0;
    c.plen = 1;
    c.depth = 0;
    c.err = errbuf;
    c.errlen = errlen;
    if (raw.n == 0) /* the encoders' convention: an empty payload is nil */
        raw = (tr__str_t){"\xc0", 1};
    tr__mp_reader_init(&r, raw.p, raw.n);
    int rc = check(s->root, &r, &c);
    if (rc == 0 && r.p != r.end)
        rc = cfail(&c, TR_EPROTO,
                   "malformed msgpack payload: %zu trailing byte(s)",
                   (size_t)(r.end - r.p));
    return rc;
}
