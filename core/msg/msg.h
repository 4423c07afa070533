/* tractor's ten wire messages: decode (zero-copy, total) and encode (byte
 * exact with msgspec). Internal. See docs/protocol.md. */
#ifndef TR_CORE_MSG_MSG_H
#define TR_CORE_MSG_MSG_H

#include "mp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tr__msg_type {
    TR__MSG_NONE = 0,
    TR__MSG_AID,
    TR__MSG_SPAWNSPEC,
    TR__MSG_START,
    TR__MSG_STARTACK,
    TR__MSG_STARTED,
    TR__MSG_YIELD,
    TR__MSG_STOP,
    TR__MSG_RETURN,
    TR__MSG_CANCELACK,
    TR__MSG_ERROR
} tr__msg_type_t;

/* "Aid", "Start", ... ; "?" for others. */
const char *tr__msg_type_name(tr__msg_type_t t);

typedef struct tr__uid {
    tr__str_t name;
    tr__str_t uuid;
} tr__uid_t;

/* Tri-state for `bool|None` fields. */
enum { TR__NIL = -1 };

typedef struct tr__msg_aid {
    tr__str_t name, uuid;
    int has_pid; /* 0 when nil */
    int64_t pid;
    int is_registrar; /* TR__NIL, 0, 1 */
    int is_probe;     /* 0, 1 */
} tr__msg_aid_t;

typedef struct tr__msg_spawnspec {
    /* raw msgpack of each field (kept undecoded, but type-checked:
     * _parent_main_data a map, _runtime_vars a map with str keys,
     * enable_modules a map str -> str, reg_addrs an array of
     * [str, str|int], bind_addrs the same or nil (then the raw "\xc0")) */
    tr__str_t parent_main_data, runtime_vars, enable_modules, reg_addrs,
        bind_addrs;
} tr__msg_spawnspec_t;

typedef struct tr__msg_start {
    tr__str_t ns, func;
    tr__str_t kwargs; /* raw msgpack map */
    tr__uid_t uid;
    tr__str_t pld_spec; /* when absent on the wire: the static "typing.Any" */
} tr__msg_start_t;

typedef struct tr__msg_error {
    tr__uid_t src_uid;
    tr__str_t src_type_str, boxed_type_str;
    tr__str_t relay_path; /* raw msgpack array of [name, uuid]; see
                             tr__msg_read_uids */
    int has_message;      /* 0 when nil */
    tr__str_t message;
    tr__str_t tb_str;
    int has_canceller;
    tr__uid_t canceller;
    int has_sender;
    tr__uid_t sender;
    /* has_cid: see tr__msg_t.has_cid */
    tr__str_t bad_msg;         /* raw; n == 0 when nil/absent */
    tr__str_t bad_msg_as_dict; /* raw; n == 0 when nil/absent */
} tr__msg_error_t;

typedef struct tr__msg {
    tr__msg_type_t type;
    int has_cid; /* always 1 except Aid, SpawnSpec and cid-less Error */
    tr__str_t cid;
    union {
        tr__msg_aid_t aid;
        tr__msg_spawnspec_t spawnspec;
        tr__msg_start_t start;
        tr__str_t functype; /* StartAck */
        tr__str_t pld;      /* Started, Yield, Return: raw msgpack value */
        int cancelack;      /* CancelAck.pld (strict bool) */
        tr__msg_error_t error;
    } u;
} tr__msg_t;

/* Decode one frame body (without the length prefix). Every slice in *out
 * points into `body`. Total: never reads past `len`, bounded depth, no
 * allocation. Returns 0, or a negative TR_E* code with a message naming the
 * problem in errbuf:
 *   TR_EPROTO    - not well-formed msgpack (truncated, trailing bytes, 0xc1,
 *                  empty, too deep), or the body is not a map
 *   TR_EMSGTYPE  - well-formed but not a valid message: missing/unknown/
 *                  non-str msg_type, missing required field, wrong type
 * Defaults of absent optional fields are filled in (Start.pld_spec then
 * points at a static "typing.Any", Error.tb_str is empty).
 * On TR_EMSGTYPE, out->type is still the tag when it was recognised
 * (TR__MSG_NONE otherwise) and has_cid/cid are set when the body had a str
 * `cid`, so the caller can route the MsgTypeError like tractor does. */
int tr__msg_decode(const void *body, size_t len, tr__msg_t *out, char *errbuf,
                   size_t errlen);

/* Decode a whole frame (4-byte LE length prefix + body). TR_EPROTO when the
 * prefix does not match the bytes that follow it; else as tr__msg_decode. */
int tr__msg_decode_frame(const void *frame, size_t len, tr__msg_t *out,
                         char *errbuf, size_t errlen);

/* Read the uids of a raw msgpack array of [name, uuid] (Error.relay_path):
 * up to `cap` into out[], the total count in *n (may exceed cap).
 * 0, or -1 if `raw` is not such an array. */
int tr__msg_read_uids(tr__str_t raw, tr__uid_t *out, size_t cap, size_t *n);

/* ---- framing -------------------------------------------------------- */

/* Default maximum frame body size (tractor has none; we refuse bigger). */
#define TR__FRAME_MAX_DEFAULT (64u * 1024u * 1024u)

/* Look at the start of a receive buffer. Once 4 bytes are there, *body_len
 * is the announced body length. Returns 0 when the whole frame (4 +
 * *body_len bytes) is in `buf`, TR_EAGAIN when more bytes are needed, and
 * TR_EMSGSIZE when the body would exceed max_body. */
int tr__frame_peek(const void *buf, size_t len, size_t max_body,
                   size_t *body_len);

/* ---- encoders -------------------------------------------------------
 * Each appends one complete frame (4-byte LE length + body) to `b`, with
 * `msg_type` first and every field in declaration order, as msgspec does.
 * Raw arguments are already-encoded msgpack values copied verbatim.
 * On failure (out of memory, or a body over 4 GiB) the partial frame is
 * removed again and b->oom is set: the buffer only ever holds whole frames. */

/* Reserve the 4-byte prefix; returns its offset for tr__frame_end. */
size_t tr__frame_begin(tr__wbuf_t *b);
/* Patch the prefix with the body length. -1 if the body exceeds 4 GiB
 * (or b->oom is set, or `off` is not a frame start in b). */
int tr__frame_end(tr__wbuf_t *b, size_t off);

/* pid < 0 => nil; is_registrar TR__NIL/0/1 */
void tr__enc_aid(tr__wbuf_t *b, tr__str_t name, tr__str_t uuid, int64_t pid,
                 int is_registrar, int is_probe);
/* A raw argument with n == 0 is sent as its empty value: {} for the three
 * maps, [] for reg_addrs, nil for bind_addrs. */
void tr__enc_spawnspec(tr__wbuf_t *b, tr__str_t parent_main_data,
                       tr__str_t runtime_vars, tr__str_t enable_modules,
                       tr__str_t reg_addrs, tr__str_t bind_addrs);
/* kwargs.n == 0 => empty map; pld_spec.n == 0 => "typing.Any" */
void tr__enc_start(tr__wbuf_t *b, tr__str_t cid, tr__str_t ns, tr__str_t func,
                   tr__str_t kwargs, tr__uid_t uid, tr__str_t pld_spec);
void tr__enc_startack(tr__wbuf_t *b, tr__str_t cid, tr__str_t functype);
/* type: STARTED, YIELD or RETURN (anything else: nothing is written and
 * b->oom is set); pld.n == 0 => nil */
void tr__enc_payload(tr__wbuf_t *b, tr__msg_type_t type, tr__str_t cid,
                     tr__str_t pld);
void tr__enc_stop(tr__wbuf_t *b, tr__str_t cid);
void tr__enc_cancelack(tr__wbuf_t *b, tr__str_t cid, int value);

/* Fields of an Error to encode. relay_path is an array of n_relay uids.
 * Optional members: NULL/0 => nil (message) or '' (tb_str). */
typedef struct tr__error_fields {
    tr__uid_t src_uid;
    tr__str_t src_type_str, boxed_type_str;
    const tr__uid_t *relay;
    size_t n_relay;
    int has_message;
    tr__str_t message;
    tr__str_t tb_str;
    const tr__uid_t *canceller; /* NULL => nil */
    const tr__uid_t *sender;    /* NULL => nil */
    const tr__str_t *cid;       /* NULL => nil */
    tr__str_t bad_msg;          /* raw; n == 0 => nil */
    tr__str_t bad_msg_as_dict;  /* raw; n == 0 => nil */
} tr__error_fields_t;

void tr__enc_error(tr__wbuf_t *b, const tr__error_fields_t *e);

/* ---- payload specs (tractor's PldRx / limit_plds) --------------------
 * Grammar (whitespace ignored):
 *   spec  := alt ('|' alt)*
 *   alt   := 'any' | 'nil' | 'bool' | 'int' | 'float' | 'str' | 'bytes'
 *          | 'list' | 'dict' | '[' spec ']'            (array of spec)
 *          | '{' [key ':' spec (',' key ':' spec)*] '}' (map with required
 *                                                       str keys; extra keys
 *                                                       allowed)
 *   'float' also accepts ints; 'list' any array; 'dict' any map. */
typedef struct tr__pldspec tr__pldspec_t;

/* Compile; NULL/"any"/"typing.Any" give *out = NULL (accept everything).
 * TR_EINVAL with a message on a bad spec. Keys in '{...}' are identifiers
 * ([A-Za-z_][A-Za-z0-9_]*) or double-quoted strings without escapes. A
 * union containing 'any' is 'any'. TR_ENOMEM when out of memory. */
int tr__pldspec_compile(const char *spec, tr__pldspec_t **out, char *errbuf,
                        size_t errlen);
void tr__pldspec_free(tr__pldspec_t *s);
/* The spec's canonical text (for messages). */
const char *tr__pldspec_text(const tr__pldspec_t *s);
/* Check one raw msgpack value. 0, or TR_EMSGTYPE with errbuf like
 * "expected int, got str at $.items[2]". A NULL spec accepts anything.
 * TR_EPROTO if `raw` is not exactly one well-formed msgpack value; an empty
 * `raw` (n == 0) is checked as nil, as the encoders send it. */
int tr__pldspec_check(const tr__pldspec_t *s, tr__str_t raw, char *errbuf,
                      size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
