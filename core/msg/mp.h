/* Minimal msgpack writer and zero-copy, bounded reader used on the hot path.
 * Internal: nothing here is installed. */
#ifndef TR_CORE_MSG_MP_H
#define TR_CORE_MSG_MP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A slice of bytes that is not NUL-terminated. */
typedef struct tr__str {
    const char *p;
    size_t n;
} tr__str_t;

#define TR__STR(lit) ((tr__str_t){(lit), sizeof(lit) - 1})
static inline tr__str_t tr__cstr(const char *s) {
    tr__str_t r = {s, s ? strlen(s) : 0};
    return r;
}
static inline int tr__str_eq(tr__str_t a, const char *lit) {
    size_t n = strlen(lit);
    return a.n == n && memcmp(a.p, lit, n) == 0;
}
static inline int tr__str_eqs(tr__str_t a, tr__str_t b) {
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ---- writer: a growable byte buffer ------------------------------- */
typedef struct tr__wbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    int oom; /* sticky: set when an allocation failed (also when a value
                is too large for msgpack, e.g. a str over 4 GiB); once set,
                every later write is a no-op, so check it after encoding */
} tr__wbuf_t;

void tr__wbuf_init(tr__wbuf_t *b);
void tr__wbuf_free(tr__wbuf_t *b);
/* Make room for `n` more bytes; 0 or -1 (and b->oom set). */
int tr__wbuf_reserve(tr__wbuf_t *b, size_t n);
void tr__wbuf_put(tr__wbuf_t *b, const void *p, size_t n);

void tr__mp_nil(tr__wbuf_t *b);
void tr__mp_bool(tr__wbuf_t *b, int v);
void tr__mp_int(tr__wbuf_t *b, int64_t v);   /* smallest encoding */
void tr__mp_uint(tr__wbuf_t *b, uint64_t v); /* smallest encoding */
void tr__mp_float(tr__wbuf_t *b, double v);  /* always float64 (0xcb) */
void tr__mp_str(tr__wbuf_t *b, const char *s, size_t n);
void tr__mp_cstr(tr__wbuf_t *b, const char *s); /* NULL => nil */
void tr__mp_bin(tr__wbuf_t *b, const void *p, size_t n);
void tr__mp_array(tr__wbuf_t *b, uint32_t n);
void tr__mp_map(tr__wbuf_t *b, uint32_t n);
/* Append an already encoded msgpack value verbatim. */
void tr__mp_raw(tr__wbuf_t *b, const void *p, size_t n);

/* ---- reader -------------------------------------------------------- */
typedef enum {
    TR__MP_NIL,
    TR__MP_BOOL,
    TR__MP_INT, /* signed or unsigned integer */
    TR__MP_FLOAT,
    TR__MP_STR,
    TR__MP_BIN,
    TR__MP_ARRAY,
    TR__MP_MAP,
    TR__MP_EXT
} tr__mp_kind_t;

/* Maximum nesting accepted by the reader (deeper input is rejected). */
#define TR__MP_MAX_DEPTH 64

/* One decoded token. For STR/BIN/EXT `str` is the slice of the data; for
 * ARRAY/MAP `count` the number of elements (pairs for maps). */
typedef struct tr__mp_tok {
    tr__mp_kind_t kind;
    /* INT: is_unsigned is 1 exactly when the value is > INT64_MAX; then only
     * `u` holds it. Otherwise `i` holds the value (and `u` too when >= 0). */
    int is_unsigned;
    int64_t i;
    uint64_t u;
    double f;
    int b;
    int8_t ext_type;
    uint32_t count;
    tr__str_t str;
} tr__mp_tok_t;

typedef struct tr__mp_reader {
    const uint8_t *p;
    const uint8_t *end;
} tr__mp_reader_t;

static inline void tr__mp_reader_init(tr__mp_reader_t *r, const void *p,
                                      size_t n) {
    r->p = (const uint8_t *)p;
    r->end = r->p + n;
}
/* Read one token header (containers are not descended). 0 or -1 on
 * truncation/invalid byte (0xc1). Lengths are checked against the input:
 * a str/bin/ext must fit in what is left, an array of n needs at least n
 * bytes left and a map of n pairs 2n. On -1 the reader does not move. */
int tr__mp_next(tr__mp_reader_t *r, tr__mp_tok_t *t);
/* Skip one complete value (recursively, depth-bounded). 0 or -1. */
int tr__mp_skip(tr__mp_reader_t *r);
/* Read one complete value and return its raw bytes in *raw. 0 or -1. */
int tr__mp_read_raw(tr__mp_reader_t *r, tr__str_t *raw);
/* Validate that [p, p+n) holds exactly one well-formed value. 0 or -1. */
int tr__mp_validate(const void *p, size_t n);

/* Convenience: read a str token (-1 if not a str). */
int tr__mp_read_str(tr__mp_reader_t *r, tr__str_t *s);
/* Convenience: read an int (-1 if not an int or > INT64_MAX). */
int tr__mp_read_int(tr__mp_reader_t *r, int64_t *v);

/* In a msgpack map value `map`, find key `key` (a str key) and return the
 * raw bytes of its value. 0 when found, -1 when not found or malformed. */
int tr__mp_map_get(tr__str_t map, const char *key, tr__str_t *val);

/* ---- reader, with diagnostics ---------------------------------------
 * The same operations, but on failure *why (when why != NULL) is set to a
 * static string naming the problem ("truncated input", "invalid byte 0xc1",
 * ...) and r->p is left at the start of the offending token, so callers can
 * report "malformed msgpack at byte N: <why>". */
int tr__mp_next_ex(tr__mp_reader_t *r, tr__mp_tok_t *t, const char **why);
/* Skip one value that sits inside `depth` enclosing containers (0 at top
 * level): nesting is bounded by TR__MP_MAX_DEPTH counted from the top. */
int tr__mp_skip_ex(tr__mp_reader_t *r, unsigned depth, const char **why);

/* "nil", "bool", "int", "float", "str", "bin", "array", "map", "ext". */
const char *tr__mp_kind_name(tr__mp_kind_t k);

#ifdef __cplusplus
}
#endif

#endif
