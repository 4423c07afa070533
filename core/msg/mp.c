/* Minimal msgpack writer and total, bounded, zero-copy reader.
 *
 * The writer always picks the smallest encoding, exactly as msgspec does
 * (fixint / uint8..64 / int8..64, float64 for every float, fixstr / str8..32,
 * bin8..32, fixarray / array16..32, fixmap / map16..32).
 *
 * The reader never reads past its end pointer, never allocates, rejects the
 * unused byte 0xc1, checks every declared length against the input that is
 * left before trusting it, and bounds nesting to TR__MP_MAX_DEPTH without
 * recursion (an explicit stack of pending element counts). */
#include "mp.h"

#include <stdlib.h>

/* ==================================================================== */
/* writer                                                                */
/* ==================================================================== */

void tr__wbuf_init(tr__wbuf_t *b) {
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

void tr__wbuf_free(tr__wbuf_t *b) {
    free(b->p);
    tr__wbuf_init(b);
}

static int wbuf_grow(tr__wbuf_t *b, size_t n) {
    if (n > SIZE_MAX - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + n;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int tr__wbuf_reserve(tr__wbuf_t *b, size_t n) {
    if (b->oom)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    return wbuf_grow(b, n);
}

/* Reserve `n` bytes at the tail, account for them, return where to write
 * (NULL after a failure; the buffer is then sticky-oom). */
static uint8_t *wbuf_tail(tr__wbuf_t *b, size_t n) {
    if (tr__wbuf_reserve(b, n))
        return NULL;
    uint8_t *q = b->p + b->len;
    b->len += n;
    return q;
}

void tr__wbuf_put(tr__wbuf_t *b, const void *p, size_t n) {
    if (n == 0)
        return;
    uint8_t *q = wbuf_tail(b, n);
    if (q)
        memcpy(q, p, n);
}

static void be16(uint8_t *q, uint16_t v) {
    q[0] = (uint8_t)(v >> 8);
    q[1] = (uint8_t)v;
}
static void be32(uint8_t *q, uint32_t v) {
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}
static void be64(uint8_t *q, uint64_t v) {
    be32(q, (uint32_t)(v >> 32));
    be32(q + 4, (uint32_t)v);
}

static void put_byte(tr__wbuf_t *b, uint8_t c) {
    uint8_t *q = wbuf_tail(b, 1);
    if (q)
        *q = c;
}

/* One tag byte followed by a big-endian length/value of `w` bytes. */
static void put_tagged(tr__wbuf_t *b, uint8_t tag, uint64_t v, int w) {
    uint8_t *q = wbuf_tail(b, 1 + (size_t)w);
    if (!q)
        return;
    q[0] = tag;
    switch (w) {
    case 1: q[1] = (uint8_t)v; break;
    case 2: be16(q + 1, (uint16_t)v); break;
    case 4: be32(q + 1, (uint32_t)v); break;
    default: be64(q + 1, v); break;
    }
}

void tr__mp_nil(tr__wbuf_t *b) { put_byte(b, 0xc0); }

void tr__mp_bool(tr__wbuf_t *b, int v) { put_byte(b, v ? 0xc3 : 0xc2); }

void tr__mp_uint(tr__wbuf_t *b, uint64_t v) {
    if (v <= 0x7f)
        put_byte(b, (uint8_t)v);
    else if (v <= UINT8_MAX)
        put_tagged(b, 0xcc, v, 1);
    else if (v <= UINT16_MAX)
        put_tagged(b, 0xcd, v, 2);
    else if (v <= UINT32_MAX)
        put_tagged(b, 0xce, v, 4);
    else
        put_tagged(b, 0xcf, v, 8);
}

void tr__mp_int(tr__wbuf_t *b, int64_t v) {
    if (v >= 0)
        tr__mp_uint(b, (uint64_t)v);
    else if (v >= -32)
        put_byte(b, (uint8_t)(int8_t)v); /* negative fixint 0xe0..0xff */
    else if (v >= INT8_MIN)
        put_tagged(b, 0xd0, (uint64_t)v, 1);
    else if (v >= INT16_MIN)
        put_tagged(b, 0xd1, (uint64_t)v, 2);
    else if (v >= INT32_MIN)
        put_tagged(b, 0xd2, (uint64_t)v, 4);
    else
        put_tagged(b, 0xd3, (uint64_t)v, 8);
}

void tr__mp_float(tr__wbuf_t *b, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_tagged(b, 0xcb, bits, 8);
}

/* Header of a str/bin/array/map: `fix` is the fix-form base (0 if none,
 * with fix_max its largest count), t8/t16/t32 the sized tags (t8 0 if
 * none). Sets oom when n does not fit in 32 bits. */
static void put_len_hdr(tr__wbuf_t *b, size_t n, uint8_t fix, size_t fix_max,
                        uint8_t t8, uint8_t t16, uint8_t t32) {
    if (fix && n <= fix_max)
        put_byte(b, (uint8_t)(fix | n));
    else if (t8 && n <= UINT8_MAX)
        put_tagged(b, t8, n, 1);
    else if (n <= UINT16_MAX)
        put_tagged(b, t16, n, 2);
    else if ((uint64_t)n <= UINT32_MAX)
        put_tagged(b, t32, n, 4);
    else
        b->oom = 1;
}

void tr__mp_str(tr__wbuf_t *b, const char *s, size_t n) {
    if (tr__wbuf_reserve(b, n + 5)) /* one reserve for header + data */
        return;
    put_len_hdr(b, n, 0xa0, 31, 0xd9, 0xda, 0xdb);
    tr__wbuf_put(b, s, n);
}

void tr__mp_cstr(tr__wbuf_t *b, const char *s) {
    if (!s)
        tr__mp_nil(b);
    else
        tr__mp_str(b, s, strlen(s));
}

void tr__mp_bin(tr__wbuf_t *b, const void *p, size_t n) {
    if (tr__wbuf_reserve(b, n + 5))
        return;
    put_len_hdr(b, n, 0, 0, 0xc4, 0xc5, 0xc6);
    tr__wbuf_put(b, p, n);
}

void tr__mp_array(tr__wbuf_t *b, uint32_t n) {
    put_len_hdr(b, n, 0x90, 15, 0, 0xdc, 0xdd);
}

void tr__mp_map(tr__wbuf_t *b, uint32_t n) {
    put_len_hdr(b, n, 0x80, 15, 0, 0xde, 0xdf);
}

void tr__mp_raw(tr__wbuf_t *b, const void *p, size_t n) {
    tr__wbuf_put(b, p, n);
}

/* ==================================================================== */
/* reader                                                                */
/* ==================================================================== */

static const char WHY_TRUNC[] = "truncated input";
static const char WHY_C1[] = "invalid byte 0xc1";
static const char WHY_LEN[] = "declared length exceeds the remaining input";
static const char WHY_DEEP[] = "nesting deeper than 64 levels";

static uint16_t rd16(const uint8_t *q) {
    return (uint16_t)((uint16_t)q[0] << 8 | q[1]);
}
static uint32_t rd32(const uint8_t *q) {
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
           q[3];
}
static uint64_t rd64(const uint8_t *q) {
    return (uint64_t)rd32(q) << 32 | rd32(q + 4);
}

/* Width in bytes of the big-endian length/value that follows tag `c`
 * (0 for tags without one, or whose size is fixed by the tag itself). */
static unsigned tag_width(uint8_t c) {
    switch (c) {
    case 0xc4: case 0xc7: case 0xcc: case 0xd0: case 0xd9: return 1;
    case 0xc5: case 0xc8: case 0xcd: case 0xd1: case 0xda: case 0xdc:
    case 0xde: return 2;
    case 0xc6: case 0xc9: case 0xca: case 0xce: case 0xd2: case 0xdb:
    case 0xdd: case 0xdf: return 4;
    case 0xcb: case 0xcf: case 0xd3: return 8;
    default: return 0;
    }
}

static uint64_t rd_be(const uint8_t *q, unsigned w) {
    switch (w) {
    case 1: return q[0];
    case 2: return rd16(q);
    case 4: return rd32(q);
    default: return rd64(q);
    }
}

static void set_int(tr__mp_tok_t *t, int64_t v) {
    t->kind = TR__MP_INT;
    t->is_unsigned = 0;
    t->i = v;
    t->u = (uint64_t)v;
}

static void set_uint(tr__mp_tok_t *t, uint64_t v) {
    t->kind = TR__MP_INT;
    t->is_unsigned = v > (uint64_t)INT64_MAX;
    t->u = v;
    t->i = t->is_unsigned ? 0 : (int64_t)v;
}

/* A str/bin/ext body of `n` bytes at q: it must fit in [q, end). */
static int take_bytes(tr__mp_tok_t *t, const uint8_t **q, const uint8_t *end,
                      uint64_t n, const char **why) {
    if (n > (uint64_t)(end - *q)) {
        *why = WHY_LEN;
        return -1;
    }
    t->str.p = (const char *)*q;
    t->str.n = (size_t)n;
    *q += n;
    return 0;
}

/* A container header: every element needs at least one byte, so a count
 * larger than the input left is rejected here, before anyone loops on it. */
static int take_count(tr__mp_tok_t *t, tr__mp_kind_t k, uint64_t n,
                      const uint8_t *q, const uint8_t *end, const char **why) {
    uint64_t min_bytes = k == TR__MP_MAP ? 2 * n : n;
    if (min_bytes > (uint64_t)(end - q)) {
        *why = WHY_LEN;
        return -1;
    }
    t->kind = k;
    t->count = (uint32_t)n;
    return 0;
}

/* Decode the token whose tag byte `c` has been consumed; q points after the
 * tag and its width-byte field is known to be present. */
static int decode_sized(uint8_t c, uint64_t v, const uint8_t **q,
                        const uint8_t *end, tr__mp_tok_t *t, const char **why) {
    switch (c) {
    case 0xc4: case 0xc5: case 0xc6:
        t->kind = TR__MP_BIN;
        return take_bytes(t, q, end, v, why);
    case 0xd9: case 0xda: case 0xdb:
        t->kind = TR__MP_STR;
        return take_bytes(t, q, end, v, why);
    case 0xc7: case 0xc8: case 0xc9:
        if (*q >= end) {
            *why = WHY_TRUNC;
            return -1;
        }
        t->kind = TR__MP_EXT;
        t->ext_type = (int8_t)**q;
        (*q)++;
        return take_bytes(t, q, end, v, why);
    case 0xca: {
        float f;
        uint32_t bits = (uint32_t)v;
        memcpy(&f, &bits, sizeof f);
        t->kind = TR__MP_FLOAT;
        t->f = f;
        return 0;
    }
    case 0xcb:
        t->kind = TR__MP_FLOAT;
        memcpy(&t->f, &v, sizeof t->f);
        return 0;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        set_uint(t, v);
        return 0;
    case 0xd0: set_int(t, (int8_t)(uint8_t)v); return 0;
    case 0xd1: set_int(t, (int16_t)(uint16_t)v); return 0;
    case 0xd2: set_int(t, (int32_t)(uint32_t)v); return 0;
    case 0xd3: set_int(t, (int64_t)v); return 0;
    case 0xdc: case 0xdd:
        return take_count(t, TR__MP_ARRAY, v, *q, end, why);
    default: /* 0xde, 0xdf */
        return take_count(t, TR__MP_MAP, v, *q, end, why);
    }
}

/* Everything whose length is implied by the tag alone. */
static int decode_fixed(uint8_t c, const uint8_t **q, const uint8_t *end,
                        tr__mp_tok_t *t, const char **why) {
    if (c <= 0x7f) {
        set_int(t, c);
        return 0;
    }
    if (c >= 0xe0) {
        set_int(t, (int8_t)c);
        return 0;
    }
    if (c <= 0x8f)
        return take_count(t, TR__MP_MAP, c & 0x0fu, *q, end, why);
    if (c <= 0x9f)
        return take_count(t, TR__MP_ARRAY, c & 0x0fu, *q, end, why);
    if (c <= 0xbf) {
        t->kind = TR__MP_STR;
        return take_bytes(t, q, end, c & 0x1fu, why);
    }
    switch (c) {
    case 0xc0: t->kind = TR__MP_NIL; return 0;
    case 0xc2: case 0xc3: t->kind = TR__MP_BOOL; t->b = c & 1; return 0;
    case 0xc1: *why = WHY_C1; return -1;
    default: break;
    }
    /* fixext 1/2/4/8/16: d4..d8 */
    if (*q >= end) {
        *why = WHY_TRUNC;
        return -1;
    }
    t->kind = TR__MP_EXT;
    t->ext_type = (int8_t)**q;
    (*q)++;
    return take_bytes(t, q, end, (uint64_t)1 << (c - 0xd4), why);
}

int tr__mp_next_ex(tr__mp_reader_t *r, tr__mp_tok_t *t, const char **why) {
    const char *dummy;
    if (!why)
        why = &dummy;
    const uint8_t *q = r->p;
    if (q >= r->end) {
        *why = WHY_TRUNC;
        return -1;
    }
    uint8_t c = *q++;
    unsigned w = tag_width(c);
    int rc;
    if (w == 0) {
        rc = decode_fixed(c, &q, r->end, t, why);
    } else if ((size_t)(r->end - q) < w) {
        *why = WHY_TRUNC;
        rc = -1;
    } else {
        uint64_t v = rd_be(q, w);
        q += w;
        rc = decode_sized(c, v, &q, r->end, t, why);
    }
    if (rc == 0)
        r->p = q;
    return rc;
}

int tr__mp_next(tr__mp_reader_t *r, tr__mp_tok_t *t) {
    return tr__mp_next_ex(r, t, NULL);
}

int tr__mp_skip_ex(tr__mp_reader_t *r, unsigned depth, const char **why) {
    const char *dummy;
    if (!why)
        why = &dummy;
    /* left[d]: elements still to read in the container open at level d+1
     * (relative to `depth`); `todo` is the count at the innermost level. */
    uint64_t left[TR__MP_MAX_DEPTH];
    unsigned open = 0;
    uint64_t todo = 1;
    tr__mp_tok_t t;
    for (;;) {
        while (todo == 0) {
            if (open == 0)
                return 0;
            todo = left[--open];
        }
        const uint8_t *tok = r->p;
        if (tr__mp_next_ex(r, &t, why))
            return -1;
        todo--;
        if (t.kind != TR__MP_ARRAY && t.kind != TR__MP_MAP)
            continue;
        if (depth + open + 1 > TR__MP_MAX_DEPTH) {
            *why = WHY_DEEP;
            r->p = tok; /* point at the offending container header */
            return -1;
        }
        uint64_t n = t.kind == TR__MP_MAP ? 2 * (uint64_t)t.count : t.count;
        if (n == 0)
            continue;
        left[open++] = todo;
        todo = n;
    }
}

int tr__mp_skip(tr__mp_reader_t *r) {
    const uint8_t *start = r->p;
    if (tr__mp_skip_ex(r, 0, NULL)) {
        r->p = start;
        return -1;
    }
    return 0;
}

int tr__mp_read_raw(tr__mp_reader_t *r, tr__str_t *raw) {
    const uint8_t *start = r->p;
    if (tr__mp_skip(r))
        return -1;
    raw->p = (const char *)start;
    raw->n = (size_t)(r->p - start);
    return 0;
}

int tr__mp_validate(const void *p, size_t n) {
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, p, n);
    return tr__mp_skip(&r) == 0 && r.p == r.end ? 0 : -1;
}

int tr__mp_read_str(tr__mp_reader_t *r, tr__str_t *s) {
    tr__mp_reader_t save = *r;
    tr__mp_tok_t t;
    if (tr__mp_next(r, &t) || t.kind != TR__MP_STR) {
        *r = save;
        return -1;
    }
    *s = t.str;
    return 0;
}

int tr__mp_read_int(tr__mp_reader_t *r, int64_t *v) {
    tr__mp_reader_t save = *r;
    tr__mp_tok_t t;
    if (tr__mp_next(r, &t) || t.kind != TR__MP_INT || t.is_unsigned) {
        *r = save;
        return -1;
    }
    *v = t.i;
    return 0;
}

int tr__mp_map_get(tr__str_t map, const char *key, tr__str_t *val) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    size_t klen = strlen(key);
    tr__mp_reader_init(&r, map.p, map.n);
    if (tr__mp_next(&r, &t) || t.kind != TR__MP_MAP)
        return -1;
    for (uint32_t i = 0; i < t.count; i++) {
        tr__mp_reader_t k = r;
        tr__mp_tok_t kt;
        if (tr__mp_next(&k, &kt))
            return -1;
        if (kt.kind == TR__MP_STR && kt.str.n == klen &&
            memcmp(kt.str.p, key, klen) == 0) {
            r = k;
            return tr__mp_read_raw(&r, val);
        }
        if (tr__mp_skip(&r) || tr__mp_skip(&r)) /* key, then value */
            return -1;
    }
    return -1;
}

const char *tr__mp_kind_name(tr__mp_kind_t k) {
    static const char *const names[] = {"nil", "bool",  "int", "float", "str",
                                        "bin", "array", "map", "ext"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
