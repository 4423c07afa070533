/* Decoding of tractor's ten wire messages (zero-copy, total, no allocation).
 *
 * A body is decoded in two passes:
 *   1. structure: walk the whole map once with the bounded reader, checking
 *      that it is well-formed msgpack with nothing after it, and remember the
 *      raw slice of every value whose key is one of the known field names
 *      (the union over all message types; unknown keys are ignored, a key
 *      seen twice keeps its last value). Any failure here is TR_EPROTO.
 *   2. schema: with the tag known, check each field of that message type
 *      from its remembered slice: presence, msgpack type, shape. Any failure
 *      here is TR_EMSGTYPE, with a message naming the field.
 * Frames as msgspec writes them (tag first, fields in order) for the hot
 * payload messages take a straight-line fast path instead (decode_fast).
 */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>

#include "tractor/tractor.h"

/* ---- names ----------------------------------------------------------- */

static const tr__str_t type_names[] = {
    [TR__MSG_NONE] = {"?", 1},
    [TR__MSG_AID] = {"Aid", 3},
    [TR__MSG_SPAWNSPEC] = {"SpawnSpec", 9},
    [TR__MSG_START] = {"Start", 5},
    [TR__MSG_STARTACK] = {"StartAck", 8},
    [TR__MSG_STARTED] = {"Started", 7},
    [TR__MSG_YIELD] = {"Yield", 5},
    [TR__MSG_STOP] = {"Stop", 4},
    [TR__MSG_RETURN] = {"Return", 6},
    [TR__MSG_CANCELACK] = {"CancelAck", 9},
    [TR__MSG_ERROR] = {"Error", 5},
};
#define N_TYPES (sizeof type_names / sizeof type_names[0])

const char *tr__msg_type_name(tr__msg_type_t t) {
    return (unsigned)t < N_TYPES ? type_names[t].p : "?";
}

static tr__msg_type_t type_lookup(tr__str_t s) {
    for (unsigned t = TR__MSG_AID; t < N_TYPES; t++)
        if (tr__str_eqs(s, type_names[t]))
            return (tr__msg_type_t)t;
    return TR__MSG_NONE;
}

/* Every field name of every message type; the decoder's slots. */
enum field {
    F_MSG_TYPE, F_NAME, F_UUID, F_PID, F_IS_REGISTRAR, F_IS_PROBE,
    F_PARENT_MAIN_DATA, F_RUNTIME_VARS, F_ENABLE_MODULES, F_REG_ADDRS,
    F_BIND_ADDRS, F_CID, F_NS, F_FUNC, F_KWARGS, F_UID, F_PLD_SPEC,
    F_FUNCTYPE, F_PLD, F_SRC_UID, F_SRC_TYPE_STR, F_BOXED_TYPE_STR,
    F_RELAY_PATH, F_MESSAGE, F_TB_STR, F_CANCELLER, F_SENDER, F_BAD_MSG,
    F_BAD_MSG_AS_DICT, F__COUNT
};

#define FN(s) {s, sizeof(s) - 1}
static const tr__str_t field_names[F__COUNT] = {
    FN("msg_type"), FN("name"), FN("uuid"), FN("pid"), FN("is_registrar"),
    FN("is_probe"), FN("_parent_main_data"), FN("_runtime_vars"),
    FN("enable_modules"), FN("reg_addrs"), FN("bind_addrs"), FN("cid"),
    FN("ns"), FN("func"), FN("kwargs"), FN("uid"), FN("pld_spec"),
    FN("functype"), FN("pld"), FN("src_uid"), FN("src_type_str"),
    FN("boxed_type_str"), FN("relay_path"), FN("message"), FN("tb_str"),
    FN("canceller"), FN("sender"), FN("_bad_msg"), FN("_bad_msg_as_dict"),
};
#undef FN

static int field_lookup(tr__str_t k) {
    for (int f = 0; f < F__COUNT; f++)
        if (k.n == field_names[f].n && k.p[0] == field_names[f].p[0] &&
            memcmp(k.p, field_names[f].p, k.n) == 0)
            return f;
    return -1;
}

/* ---- decoder state and error reporting ------------------------------- */

typedef struct dec {
    const uint8_t *body;
    size_t len;
    tr__str_t slot[F__COUNT]; /* valid where the `seen` bit is set */
    uint32_t seen;
    int bad_key;               /* a non-str key was seen ... */
    tr__mp_kind_t bad_key_kind; /* ... of this kind */
    tr__msg_type_t type;
    unsigned allowed; /* bit per tr__msg_type_t accepted as the tag */
    char *err;
    size_t errlen;
} dec_t;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(dec_t *d, int code, const char *fmt, ...) {
    if (d->err && d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err, d->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int malformed(dec_t *d, const tr__mp_reader_t *r, const char *why) {
    return fail(d, TR_EPROTO, "malformed msgpack at byte %zu: %s",
                (size_t)(r->p - d->body), why);
}

static const char *tname(const dec_t *d) { return type_names[d->type].p; }

static int missing(dec_t *d, int f) {
    return fail(d, TR_EMSGTYPE, "%s: missing required field `%s`", tname(d),
                field_names[f].p);
}


/* "<Type>.<field><sub>: expected <what>, got <kind>" */
static int wrong(dec_t *d, int f, const char *sub, const char *expected,
                 tr__mp_kind_t got) {
    return fail(d, TR_EMSGTYPE, "%s.%s%s: expected %s, got %s", tname(d),
                field_names[f].p, sub, expected, tr__mp_kind_name(got));
}

static int wrong_len(dec_t *d, int f, const char *sub, uint32_t n) {
    return fail(d, TR_EMSGTYPE,
                "%s.%s%s: expected array of length 2, got length %u",
                tname(d), field_names[f].p, sub, (unsigned)n);
}

/* Copy at most 48 bytes of an untrusted string for a message, replacing
 * anything that is not printable ASCII. */
static void printable(char out[52], tr__str_t s) {
    size_t n = s.n > 48 ? 48 : s.n, i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (s.n > n)
        for (int k = 0; k < 3; k++)
            out[i++] = '.';
    out[i] = 0;
}

/* ---- pass 1: structure ------------------------------------------------ */

static int scan_body(dec_t *d) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    const char *why;
    if (d->len == 0)
        return fail(d, TR_EPROTO, "empty message body");
    tr__mp_reader_init(&r, d->body, d->len);
    if (tr__mp_next_ex(&r, &t, &why))
        return malformed(d, &r, why);
    if (t.kind != TR__MP_MAP)
        return fail(d, TR_EPROTO, "message body must be a map, got %s",
                    tr__mp_kind_name(t.kind));
    for (uint32_t i = 0; i < t.count; i++) {
        tr__mp_reader_t key = r;
        tr__mp_tok_t k;
        int f = -1;
        if (tr__mp_next_ex(&r, &k, &why))
            return malformed(d, &r, why);
        if (k.kind == TR__MP_STR) {
            f = field_lookup(k.str);
        } else {
            if (!d->bad_key) {
                d->bad_key = 1;
                d->bad_key_kind = k.kind;
            }
            r = key; /* the key may be a container: skip it whole */
            if (tr__mp_skip_ex(&r, 1, &why))
                return malformed(d, &r, why);
        }
        const uint8_t *v = r.p;
        if (tr__mp_skip_ex(&r, 1, &why))
            return malformed(d, &r, why);
        if (f >= 0) {
            d->slot[f].p = (const char *)v;
            d->slot[f].n = (size_t)(r.p - v);
            d->seen |= 1u << f;
        }
    }
    if (r.p != r.end)
        return fail(d, TR_EPROTO,
                    "malformed msgpack: %zu trailing byte(s) after the "
                    "message map (at byte %zu)",
                    (size_t)(r.end - r.p), (size_t)(r.p - d->body));
    return 0;
}

/* ---- pass 2: typed field access ---------------------------------------
 * Slices were validated in pass 1, so reads inside them cannot fail; the
 * (void) casts below mark that. Each getter returns 0 or TR_EMSGTYPE. */

static int has(const dec_t *d, int f) { return (d->seen >> f) & 1u; }

static void slot_reader(const dec_t *d, int f, tr__mp_reader_t *r) {
    tr__mp_reader_init(r, d->slot[f].p, d->slot[f].n);
}

static tr__mp_kind_t slot_kind(const dec_t *d, int f) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    return t.kind;
}

static int get_str(dec_t *d, int f, tr__str_t *out) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    if (!has(d, f))
        return missing(d, f);
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (t.kind != TR__MP_STR)
        return wrong(d, f, "", "str", t.kind);
    *out = t.str;
    return 0;
}

/* `str | None = None`: *has_v is 0 when absent or nil. */
static int get_str_or_nil(dec_t *d, int f, int *has_v, tr__str_t *out) {
    *has_v = 0;
    if (!has(d, f) || slot_kind(d, f) == TR__MP_NIL)
        return 0;
    int rc = get_str(d, f, out);
    if (rc)
        return wrong(d, f, "", "str or nil", slot_kind(d, f));
    *has_v = 1;
    return 0;
}

/* `int | None = None` (an int64: larger values are refused). */
static int get_int_or_nil(dec_t *d, int f, int *has_v, int64_t *out) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    *has_v = 0;
    if (!has(d, f))
        return 0;
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (t.kind == TR__MP_NIL)
        return 0;
    if (t.kind != TR__MP_INT)
        return wrong(d, f, "", "int or nil", t.kind);
    if (t.is_unsigned)
        return fail(d, TR_EMSGTYPE, "%s.%s: int %llu out of range", tname(d),
                    field_names[f].p, (unsigned long long)t.u);
    *has_v = 1;
    *out = t.i;
    return 0;
}

/* `bool` (nil_ok 0) or `bool | None` (nil_ok 1; nil gives TR__NIL). An
 * absent field keeps *out (its default). */
static int get_bool(dec_t *d, int f, int nil_ok, int *out) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    if (!has(d, f))
        return 0;
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (t.kind == TR__MP_BOOL)
        *out = t.b;
    else if (nil_ok && t.kind == TR__MP_NIL)
        *out = TR__NIL;
    else
        return wrong(d, f, "", nil_ok ? "bool or nil" : "bool", t.kind);
    return 0;
}

/* A `tuple[str, str]` at r, inside field f at position `sub`. */
static int read_uid(dec_t *d, int f, const char *sub, const char *expect,
                    tr__mp_reader_t *r, tr__uid_t *out) {
    tr__mp_tok_t t, a, b;
    char at[40];
    (void)tr__mp_next(r, &t);
    if (t.kind != TR__MP_ARRAY)
        return wrong(d, f, sub, expect, t.kind);
    if (t.count != 2)
        return wrong_len(d, f, sub, t.count);
    (void)tr__mp_next(r, &a);
    if (a.kind != TR__MP_STR) {
        snprintf(at, sizeof at, "%s[0]", sub);
        return wrong(d, f, at, "str", a.kind);
    }
    (void)tr__mp_next(r, &b);
    if (b.kind != TR__MP_STR) {
        snprintf(at, sizeof at, "%s[1]", sub);
        return wrong(d, f, at, "str", b.kind);
    }
    out->name = a.str;
    out->uuid = b.str;
    return 0;
}

/* A required uid (has_v NULL) or `tuple[str, str] | None = None`. */
static int get_uid(dec_t *d, int f, int *has_v, tr__uid_t *out) {
    tr__mp_reader_t r;
    if (has_v) {
        *has_v = 0;
        if (!has(d, f) || slot_kind(d, f) == TR__MP_NIL)
            return 0;
    } else if (!has(d, f)) {
        return missing(d, f);
    }
    slot_reader(d, f, &r);
    int rc = read_uid(d, f, "",
                      has_v ? "array of 2 str or nil" : "array of 2 str", &r,
                      out);
    if (rc == 0 && has_v)
        *has_v = 1;
    return rc;
}

/* `list[tuple[str, str]]` (Error.relay_path), kept raw. */
static int get_uid_list(dec_t *d, int f, tr__str_t *raw) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    tr__uid_t u;
    char sub[16];
    if (!has(d, f))
        return missing(d, f);
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (t.kind != TR__MP_ARRAY)
        return wrong(d, f, "", "array of [str, str]", t.kind);
    for (uint32_t i = 0; i < t.count; i++) {
        snprintf(sub, sizeof sub, "[%u]", (unsigned)i);
        int rc = read_uid(d, f, sub, "array of 2 str", &r, &u);
        if (rc)
            return rc;
    }
    *raw = d->slot[f];
    return 0;
}

/* One address, `tuple[str, str | int]`, at r. */
static int read_addr(dec_t *d, int f, uint32_t i, tr__mp_reader_t *r) {
    tr__mp_tok_t t;
    char sub[32];
    snprintf(sub, sizeof sub, "[%u]", (unsigned)i);
    (void)tr__mp_next(r, &t);
    if (t.kind != TR__MP_ARRAY)
        return wrong(d, f, sub, "array of [str, str|int]", t.kind);
    if (t.count != 2)
        return wrong_len(d, f, sub, t.count);
    (void)tr__mp_next(r, &t);
    if (t.kind != TR__MP_STR) {
        snprintf(sub, sizeof sub, "[%u][0]", (unsigned)i);
        return wrong(d, f, sub, "str", t.kind);
    }
    (void)tr__mp_next(r, &t);
    if (t.kind != TR__MP_STR && t.kind != TR__MP_INT) {
        snprintf(sub, sizeof sub, "[%u][1]", (unsigned)i);
        return wrong(d, f, sub, "str or int", t.kind);
    }
    return 0;
}

/* `list[tuple[str, str | int]]` (| None when nil_ok), kept raw. */
static int get_addr_list(dec_t *d, int f, int nil_ok, tr__str_t *raw) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    if (!has(d, f))
        return missing(d, f);
    *raw = d->slot[f];
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (nil_ok && t.kind == TR__MP_NIL)
        return 0;
    if (t.kind != TR__MP_ARRAY)
        return wrong(d, f, "",
                     nil_ok ? "array of addresses or nil"
                            : "array of addresses",
                     t.kind);
    for (uint32_t i = 0; i < t.count; i++) {
        int rc = read_addr(d, f, i, &r);
        if (rc)
            return rc;
    }
    return 0;
}

enum { MAP_STR_KEYS = 1, MAP_STR_VALUES = 2, MAP_NIL_OK = 4 };

/* A map (`dict`, `dict[str, Any]`, `dict[str, str]`, `dict | None`), kept
 * raw; raw->n stays 0 when nil/absent is allowed and found. */
static int get_map(dec_t *d, int f, unsigned flags, tr__str_t *raw) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    raw->p = NULL;
    raw->n = 0;
    if (!has(d, f))
        return flags & MAP_NIL_OK ? 0 : missing(d, f);
    slot_reader(d, f, &r);
    (void)tr__mp_next(&r, &t);
    if (t.kind == TR__MP_NIL && (flags & MAP_NIL_OK))
        return 0;
    if (t.kind != TR__MP_MAP)
        return wrong(d, f, "", flags & MAP_NIL_OK ? "map or nil" : "map",
                     t.kind);
    for (uint32_t i = 0; i < t.count && (flags & ~MAP_NIL_OK); i++) {
        tr__mp_reader_t k = r;
        tr__mp_tok_t kt, vt;
        (void)tr__mp_next(&k, &kt);
        if (kt.kind != TR__MP_STR && (flags & MAP_STR_KEYS))
            return fail(d, TR_EMSGTYPE, "%s.%s: expected str keys, got %s",
                        tname(d), field_names[f].p,
                        tr__mp_kind_name(kt.kind));
        (void)tr__mp_skip(&r); /* the key */
        k = r;
        (void)tr__mp_next(&k, &vt);
        if (vt.kind != TR__MP_STR && (flags & MAP_STR_VALUES))
            return fail(d, TR_EMSGTYPE, "%s.%s: expected str values, got %s",
                        tname(d), field_names[f].p,
                        tr__mp_kind_name(vt.kind));
        (void)tr__mp_skip(&r); /* the value */
    }
    *raw = d->slot[f];
    return 0;
}

/* ---- message types ----------------------------------------------------- */

#define BIT(t) (1u << (t))
#define PAYLOAD_TYPES                                                      \
    (BIT(TR__MSG_STARTED) | BIT(TR__MSG_YIELD) | BIT(TR__MSG_RETURN))
#define ALL_TYPES (BIT(N_TYPES) - 1u - BIT(TR__MSG_NONE))

static int decode_impl(const void *body, size_t len, tr__msg_t *out,
                       char *errbuf, size_t errlen, unsigned allowed);

static int dec_aid(dec_t *d, tr__msg_t *m) {
    tr__msg_aid_t *a = &m->u.aid;
    int rc;
    a->is_registrar = TR__NIL;
    a->is_probe = 0;
    (void)((rc = get_str(d, F_NAME, &a->name)) ||
           (rc = get_str(d, F_UUID, &a->uuid)) ||
           (rc = get_int_or_nil(d, F_PID, &a->has_pid, &a->pid)) ||
           (rc = get_bool(d, F_IS_REGISTRAR, 1, &a->is_registrar)) ||
           (rc = get_bool(d, F_IS_PROBE, 0, &a->is_probe)));
    return rc;
}

static int dec_spawnspec(dec_t *d, tr__msg_t *m) {
    tr__msg_spawnspec_t *s = &m->u.spawnspec;
    int rc;
    (void)((rc = get_map(d, F_PARENT_MAIN_DATA, 0, &s->parent_main_data)) ||
           (rc = get_map(d, F_RUNTIME_VARS, MAP_STR_KEYS, &s->runtime_vars)) ||
           (rc = get_map(d, F_ENABLE_MODULES, MAP_STR_KEYS | MAP_STR_VALUES,
                         &s->enable_modules)) ||
           (rc = get_addr_list(d, F_REG_ADDRS, 0, &s->reg_addrs)) ||
           (rc = get_addr_list(d, F_BIND_ADDRS, 1, &s->bind_addrs)));
    return rc;
}

static int dec_start(dec_t *d, tr__msg_t *m) {
    tr__msg_start_t *s = &m->u.start;
    int rc;
    s->pld_spec = TR__STR("typing.Any");
    (void)((rc = get_str(d, F_CID, &m->cid)) ||
           (rc = get_str(d, F_NS, &s->ns)) ||
           (rc = get_str(d, F_FUNC, &s->func)) ||
           (rc = get_map(d, F_KWARGS, MAP_STR_KEYS, &s->kwargs)) ||
           (rc = get_uid(d, F_UID, NULL, &s->uid)) ||
           (rc = has(d, F_PLD_SPEC) ? get_str(d, F_PLD_SPEC, &s->pld_spec)
                                    : 0));
    return rc;
}

static int dec_startack(dec_t *d, tr__msg_t *m) {
    tr__str_t *ft = &m->u.functype;
    char shown[52];
    int rc;
    if ((rc = get_str(d, F_CID, &m->cid)) ||
        (rc = get_str(d, F_FUNCTYPE, ft)))
        return rc;
    static const tr__str_t kinds[] = {
        {"asyncfunc", 9}, {"asyncgen", 8}, {"context", 7}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (tr__str_eqs(*ft, kinds[i]))
            return 0;
    printable(shown, *ft);
    return fail(d, TR_EMSGTYPE,
                "StartAck.functype: invalid value '%s' (expected asyncfunc, "
                "asyncgen or context)",
                shown);
}

static int dec_payload(dec_t *d, tr__msg_t *m) {
    int rc = get_str(d, F_CID, &m->cid);
    if (rc)
        return rc;
    if (!has(d, F_PLD))
        return missing(d, F_PLD);
    m->u.pld = d->slot[F_PLD];
    return 0;
}

static int dec_cancelack(dec_t *d, tr__msg_t *m) {
    int rc = get_str(d, F_CID, &m->cid);
    if (rc)
        return rc;
    if (!has(d, F_PLD))
        return missing(d, F_PLD);
    return get_bool(d, F_PLD, 0, &m->u.cancelack);
}

/* `_bad_msg: Started | Yield | Return | None`, kept raw. */
static int get_bad_msg(dec_t *d, tr__str_t *raw) {
    tr__msg_t inner;
    char why[200];
    raw->p = NULL;
    raw->n = 0;
    if (!has(d, F_BAD_MSG) || slot_kind(d, F_BAD_MSG) == TR__MP_NIL)
        return 0;
    if (slot_kind(d, F_BAD_MSG) != TR__MP_MAP)
        return wrong(d, F_BAD_MSG, "", "Started, Yield or Return map or nil",
                     slot_kind(d, F_BAD_MSG));
    /* Only payload messages are allowed, so this recurses once at most. */
    if (decode_impl(d->slot[F_BAD_MSG].p, d->slot[F_BAD_MSG].n, &inner, why,
                    sizeof why, PAYLOAD_TYPES))
        return fail(d, TR_EMSGTYPE, "Error._bad_msg: %s", why);
    *raw = d->slot[F_BAD_MSG];
    return 0;
}

static int dec_error(dec_t *d, tr__msg_t *m) {
    tr__msg_error_t *e = &m->u.error;
    int rc;
    e->tb_str = TR__STR("");
    (void)((rc = get_uid(d, F_SRC_UID, NULL, &e->src_uid)) ||
           (rc = get_str(d, F_SRC_TYPE_STR, &e->src_type_str)) ||
           (rc = get_str(d, F_BOXED_TYPE_STR, &e->boxed_type_str)) ||
           (rc = get_uid_list(d, F_RELAY_PATH, &e->relay_path)) ||
           (rc = get_str_or_nil(d, F_MESSAGE, &e->has_message, &e->message)) ||
           (rc = has(d, F_TB_STR) ? get_str(d, F_TB_STR, &e->tb_str) : 0) ||
           (rc = get_uid(d, F_CANCELLER, &e->has_canceller, &e->canceller)) ||
           (rc = get_uid(d, F_SENDER, &e->has_sender, &e->sender)) ||
           (rc = get_str_or_nil(d, F_CID, &m->has_cid, &m->cid)) ||
           (rc = get_bad_msg(d, &e->bad_msg)) ||
           (rc = get_map(d, F_BAD_MSG_AS_DICT, MAP_NIL_OK,
                         &e->bad_msg_as_dict)));
    return rc;
}

/* ---- entry points ------------------------------------------------------ */

/* The tag: present, a str, a known type, and allowed here. */
static int find_type(dec_t *d) {
    tr__str_t tag = {NULL, 0};
    char shown[52];
    if (!has(d, F_MSG_TYPE))
        return fail(d, TR_EMSGTYPE, "missing required field `msg_type`");
    if (slot_kind(d, F_MSG_TYPE) != TR__MP_STR)
        return fail(d, TR_EMSGTYPE, "msg_type: expected str, got %s",
                    tr__mp_kind_name(slot_kind(d, F_MSG_TYPE)));
    (void)get_str(d, F_MSG_TYPE, &tag);
    d->type = type_lookup(tag);
    if (d->type != TR__MSG_NONE && (d->allowed & BIT(d->type)))
        return 0;
    printable(shown, tag);
    if (d->type != TR__MSG_NONE) {
        d->type = TR__MSG_NONE;
        return fail(d, TR_EMSGTYPE,
                    "msg_type: expected Started, Yield or Return, got '%s'",
                    shown);
    }
    return fail(d, TR_EMSGTYPE, "unknown msg_type '%s'", shown);
}

static int decode_impl(const void *body, size_t len, tr__msg_t *out,
                       char *errbuf, size_t errlen, unsigned allowed) {
    dec_t d;
    int rc;
    memset(out, 0, sizeof *out);
    d.body = body;
    d.len = len;
    d.seen = 0;
    d.bad_key = 0;
    d.bad_key_kind = TR__MP_NIL;
    d.type = TR__MSG_NONE;
    d.allowed = allowed;
    d.err = errbuf;
    d.errlen = errlen;
    if ((rc = scan_body(&d)) || (rc = find_type(&d)))
        return rc;
    out->type = d.type;
    if (d.type != TR__MSG_AID && d.type != TR__MSG_SPAWNSPEC &&
        has(&d, F_CID) && slot_kind(&d, F_CID) == TR__MP_STR) {
        /* set early so a caller can route a MsgTypeError by its cid */
        (void)get_str(&d, F_CID, &out->cid);
        out->has_cid = 1;
    }
    if (d.bad_key)
        return fail(&d, TR_EMSGTYPE, "%s: map keys must be str, got %s",
                    tname(&d), tr__mp_kind_name(d.bad_key_kind));
    switch (d.type) {
    case TR__MSG_AID: return dec_aid(&d, out);
    case TR__MSG_SPAWNSPEC: return dec_spawnspec(&d, out);
    case TR__MSG_START: return dec_start(&d, out);
    case TR__MSG_STARTACK: return dec_startack(&d, out);
    case TR__MSG_STARTED:
    case TR__MSG_YIELD:
    case TR__MSG_RETURN: return dec_payload(&d, out);
    case TR__MSG_STOP: return get_str(&d, F_CID, &out->cid);
    case TR__MSG_CANCELACK: return dec_cancelack(&d, out);
    case TR__MSG_ERROR: return dec_error(&d, out);
    default: return fail(&d, TR_EMSGTYPE, "unknown msg_type");
    }
}

static const char K_MSG_TYPE[] = "\xa8" "msg_type";
static const char K_CID[] = "\xa3" "cid";
static const char K_PLD[] = "\xa3" "pld";

/* The hot path: Started/Yield/Return/Stop exactly as msgspec writes them
 * (tag first, then cid, then pld). Returns 1 when it decoded the body, 0 to
 * let the general decoder handle (and diagnose) it. */
static int decode_fast(const uint8_t *p, size_t len, tr__msg_t *out) {
    const uint8_t *end = p + len, *q = p + 1 + sizeof K_MSG_TYPE - 1;
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    if (len < 16 || (p[0] != 0x83 && p[0] != 0x82) ||
        memcmp(p + 1, K_MSG_TYPE, sizeof K_MSG_TYPE - 1) != 0 ||
        (*q & 0xe0) != 0xa0 || (size_t)(end - q - 1) < (*q & 0x1fu) + 4u)
        return 0;
    tr__str_t tag = {(const char *)q + 1, *q & 0x1fu};
    tr__msg_type_t type = type_lookup(tag);
    int is_stop = type == TR__MSG_STOP;
    if (!(BIT(type) & (PAYLOAD_TYPES | BIT(TR__MSG_STOP))) ||
        p[0] != (is_stop ? 0x82 : 0x83))
        return 0;
    q += 1 + tag.n;
    if (memcmp(q, K_CID, 4) != 0)
        return 0;
    tr__mp_reader_init(&r, q + 4, (size_t)(end - q - 4));
    if (tr__mp_next(&r, &t) || t.kind != TR__MP_STR)
        return 0;
    out->u.pld.p = NULL;
    out->u.pld.n = 0;
    if (!is_stop) {
        q = r.p;
        if (end - q < 5 || memcmp(q, K_PLD, 4) != 0)
            return 0;
        r.p = q + 4;
        if (tr__mp_skip_ex(&r, 1, NULL))
            return 0;
        out->u.pld.p = (const char *)q + 4;
        out->u.pld.n = (size_t)(r.p - (q + 4));
    }
    if (r.p != end)
        return 0;
    out->type = type;
    out->has_cid = 1;
    out->cid = t.str;
    return 1;
}

int tr__msg_decode(const void *body, size_t len, tr__msg_t *out, char *errbuf,
                   size_t errlen) {
    if (decode_fast(body, len, out))
        return 0;
    return decode_impl(body, len, out, errbuf, errlen, ALL_TYPES);
}

int tr__msg_decode_frame(const void *frame, size_t len, tr__msg_t *out,
                         char *errbuf, size_t errlen) {
    const uint8_t *p = frame;
    if (len < 4) {
        memset(out, 0, sizeof *out);
        if (errbuf && errlen)
            snprintf(errbuf, errlen,
                     "frame of %zu byte(s) is shorter than its 4-byte length "
                     "prefix",
                     len);
        return TR_EPROTO;
    }
    uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    if ((uint64_t)n != (uint64_t)(len - 4)) {
        memset(out, 0, sizeof *out);
        if (errbuf && errlen)
            snprintf(errbuf, errlen,
                     "frame length prefix says %u byte(s) but %zu follow",
                     (unsigned)n, len - 4);
        return TR_EPROTO;
    }
    return tr__msg_decode(p + 4, len - 4, out, errbuf, errlen);
}

int tr__msg_read_uids(tr__str_t raw, tr__uid_t *out, size_t cap, size_t *n) {
    tr__mp_reader_t r;
    tr__mp_tok_t t, e, a, b;
    tr__mp_reader_init(&r, raw.p, raw.n);
    if (tr__mp_next(&r, &t) || t.kind != TR__MP_ARRAY)
        return -1;
    for (uint32_t i = 0; i < t.count; i++) {
        if (tr__mp_next(&r, &e) || e.kind != TR__MP_ARRAY || e.count != 2 ||
            tr__mp_next(&r, &a) || a.kind != TR__MP_STR ||
            tr__mp_next(&r, &b) || b.kind != TR__MP_STR)
            return -1;
        if (i < cap) {
            out[i].name = a.str;
            out[i].uuid = b.str;
        }
    }
    *n = t.count;
    return 0;
}
