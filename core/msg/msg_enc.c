/* Encoding of tractor's ten wire messages, byte for byte as msgspec does it:
 * a map whose first key is "msg_type", then every field of the struct in
 * declaration order, defaults included. Keys and tags are constant, so they
 * are written as precomputed byte strings (the map header is part of the
 * first one). Also the 4-byte little-endian frame prefix. */
#include "msg.h"

#include "tractor/tractor.h"

/* "\xa8" "msg_type" etc.: a fixstr header then the text. The header byte
 * is a separate literal so that a following hex-looking letter is not
 * taken as part of the escape. */
#define MSG_TYPE "\xa8" "msg_type"
#define LIT(b, s) tr__wbuf_put((b), (s), sizeof(s) - 1)

/* ---- framing --------------------------------------------------------- */

size_t tr__frame_begin(tr__wbuf_t *b) {
    size_t off = b->len;
    tr__wbuf_put(b, "\0\0\0\0", 4);
    return off;
}

int tr__frame_end(tr__wbuf_t *b, size_t off) {
    if (b->oom || off > b->len || b->len - off < 4)
        return -1;
    size_t n = b->len - off - 4;
    if ((uint64_t)n > UINT32_MAX)
        return -1;
    uint8_t *q = b->p + off;
    q[0] = (uint8_t)n;
    q[1] = (uint8_t)(n >> 8);
    q[2] = (uint8_t)(n >> 16);
    q[3] = (uint8_t)(n >> 24);
    return 0;
}

/* Close a frame started at `off`; on failure drop it and flag the buffer. */
static void frame_finish(tr__wbuf_t *b, size_t off) {
    if (tr__frame_end(b, off) == 0)
        return;
    if (off <= b->len)
        b->len = off;
    b->oom = 1;
}

int tr__frame_peek(const void *buf, size_t len, size_t max_body,
                   size_t *body_len) {
    const uint8_t *p = buf;
    if (len < 4)
        return TR_EAGAIN;
    size_t n = (size_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                        (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    *body_len = n;
    if (n > max_body)
        return TR_EMSGSIZE;
    return len - 4 >= n ? 0 : TR_EAGAIN;
}

/* ---- small pieces ------------------------------------------------------ */

static void put_str(tr__wbuf_t *b, tr__str_t s) { tr__mp_str(b, s.p, s.n); }

/* A uid travels as the 2-array [name, uuid]. */
static void put_uid(tr__wbuf_t *b, tr__uid_t u) {
    tr__mp_array(b, 2);
    put_str(b, u.name);
    put_str(b, u.uuid);
}

static void put_uid_or_nil(tr__wbuf_t *b, const tr__uid_t *u) {
    if (u)
        put_uid(b, *u);
    else
        tr__mp_nil(b);
}

/* A raw value, or `empty` (one msgpack byte such as nil) when n == 0. */
static void put_raw_or(tr__wbuf_t *b, tr__str_t raw, const char *empty) {
    if (raw.n)
        tr__wbuf_put(b, raw.p, raw.n);
    else
        tr__wbuf_put(b, empty, 1);
}

/* Room for a frame of roughly `n` bytes, so the puts below do not grow
 * the buffer several times. A failure here is remembered in b->oom. */
static void reserve(tr__wbuf_t *b, size_t n) { (void)tr__wbuf_reserve(b, n); }

/* ---- messages ---------------------------------------------------------- */

void tr__enc_aid(tr__wbuf_t *b, tr__str_t name, tr__str_t uuid, int64_t pid,
                 int is_registrar, int is_probe) {
    reserve(b, 96 + name.n + uuid.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x86" MSG_TYPE "\xa3" "Aid" "\xa4" "name");
    put_str(b, name);
    LIT(b, "\xa4" "uuid");
    put_str(b, uuid);
    LIT(b, "\xa3" "pid");
    if (pid < 0)
        tr__mp_nil(b);
    else
        tr__mp_int(b, pid);
    LIT(b, "\xac" "is_registrar");
    if (is_registrar == TR__NIL)
        tr__mp_nil(b);
    else
        tr__mp_bool(b, is_registrar);
    LIT(b, "\xa8" "is_probe");
    tr__mp_bool(b, is_probe);
    frame_finish(b, off);
}

void tr__enc_spawnspec(tr__wbuf_t *b, tr__str_t parent_main_data,
                       tr__str_t runtime_vars, tr__str_t enable_modules,
                       tr__str_t reg_addrs, tr__str_t bind_addrs) {
    reserve(b, 112 + parent_main_data.n + runtime_vars.n + enable_modules.n +
                   reg_addrs.n + bind_addrs.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x86" MSG_TYPE "\xa9" "SpawnSpec" "\xb1" "_parent_main_data");
    put_raw_or(b, parent_main_data, "\x80");
    LIT(b, "\xad" "_runtime_vars");
    put_raw_or(b, runtime_vars, "\x80");
    LIT(b, "\xae" "enable_modules");
    put_raw_or(b, enable_modules, "\x80");
    LIT(b, "\xa9" "reg_addrs");
    put_raw_or(b, reg_addrs, "\x90");
    LIT(b, "\xaa" "bind_addrs");
    put_raw_or(b, bind_addrs, "\xc0");
    frame_finish(b, off);
}

void tr__enc_start(tr__wbuf_t *b, tr__str_t cid, tr__str_t ns, tr__str_t func,
                   tr__str_t kwargs, tr__uid_t uid, tr__str_t pld_spec) {
    if (pld_spec.n == 0)
        pld_spec = TR__STR("typing.Any");
    reserve(b, 96 + cid.n + ns.n + func.n + kwargs.n + uid.name.n +
                   uid.uuid.n + pld_spec.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x87" MSG_TYPE "\xa5" "Start" "\xa3" "cid");
    put_str(b, cid);
    LIT(b, "\xa2" "ns");
    put_str(b, ns);
    LIT(b, "\xa4" "func");
    put_str(b, func);
    LIT(b, "\xa6" "kwargs");
    put_raw_or(b, kwargs, "\x80");
    LIT(b, "\xa3" "uid");
    put_uid(b, uid);
    LIT(b, "\xa8" "pld_spec");
    put_str(b, pld_spec);
    frame_finish(b, off);
}

void tr__enc_startack(tr__wbuf_t *b, tr__str_t cid, tr__str_t functype) {
    reserve(b, 48 + cid.n + functype.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x83" MSG_TYPE "\xa8" "StartAck" "\xa3" "cid");
    put_str(b, cid);
    LIT(b, "\xa8" "functype");
    put_str(b, functype);
    frame_finish(b, off);
}

/* The hot path (every stream value): one reservation, then plain copies. */
void tr__enc_payload(tr__wbuf_t *b, tr__msg_type_t type, tr__str_t cid,
                     tr__str_t pld) {
    static const char started[] = "\x83" MSG_TYPE "\xa7" "Started" "\xa3" "cid";
    static const char yield[] = "\x83" MSG_TYPE "\xa5" "Yield" "\xa3" "cid";
    static const char ret[] = "\x83" MSG_TYPE "\xa6" "Return" "\xa3" "cid";
    const char *hdr;
    size_t hn;
    switch (type) {
    case TR__MSG_STARTED: hdr = started; hn = sizeof started - 1; break;
    case TR__MSG_YIELD: hdr = yield; hn = sizeof yield - 1; break;
    case TR__MSG_RETURN: hdr = ret; hn = sizeof ret - 1; break;
    default: b->oom = 1; return;
    }
    reserve(b, 4 + hn + 5 + cid.n + 4 + (pld.n ? pld.n : 1));
    size_t off = tr__frame_begin(b);
    tr__wbuf_put(b, hdr, hn);
    put_str(b, cid);
    LIT(b, "\xa3" "pld");
    put_raw_or(b, pld, "\xc0");
    frame_finish(b, off);
}

void tr__enc_stop(tr__wbuf_t *b, tr__str_t cid) {
    reserve(b, 32 + cid.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x82" MSG_TYPE "\xa4" "Stop" "\xa3" "cid");
    put_str(b, cid);
    frame_finish(b, off);
}

void tr__enc_cancelack(tr__wbuf_t *b, tr__str_t cid, int value) {
    reserve(b, 40 + cid.n);
    size_t off = tr__frame_begin(b);
    LIT(b, "\x83" MSG_TYPE "\xa9" "CancelAck" "\xa3" "cid");
    put_str(b, cid);
    LIT(b, "\xa3" "pld");
    tr__mp_bool(b, value);
    frame_finish(b, off);
}

static size_t uid_size(tr__uid_t u) { return 11 + u.name.n + u.uuid.n; }

static size_t error_size(const tr__error_fields_t *e) {
    size_t n = 200 + uid_size(e->src_uid) + e->src_type_str.n +
               e->boxed_type_str.n + e->message.n + e->tb_str.n +
               e->bad_msg.n + e->bad_msg_as_dict.n;
    for (size_t i = 0; i < e->n_relay; i++)
        n += uid_size(e->relay[i]);
    if (e->canceller)
        n += uid_size(*e->canceller);
    if (e->sender)
        n += uid_size(*e->sender);
    if (e->cid)
        n += e->cid->n + 5;
    return n;
}

void tr__enc_error(tr__wbuf_t *b, const tr__error_fields_t *e) {
    if (e->n_relay > UINT32_MAX) {
        b->oom = 1;
        return;
    }
    reserve(b, error_size(e));
    size_t off = tr__frame_begin(b);
    LIT(b, "\x8c" MSG_TYPE "\xa5" "Error" "\xa7" "src_uid");
    put_uid(b, e->src_uid);
    LIT(b, "\xac" "src_type_str");
    put_str(b, e->src_type_str);
    LIT(b, "\xae" "boxed_type_str");
    put_str(b, e->boxed_type_str);
    LIT(b, "\xaa" "relay_path");
    tr__mp_array(b, (uint32_t)e->n_relay);
    for (size_t i = 0; i < e->n_relay; i++)
        put_uid(b, e->relay[i]);
    LIT(b, "\xa7" "message");
    if (e->has_message)
        put_str(b, e->message);
    else
        tr__mp_nil(b);
    LIT(b, "\xa6" "tb_str");
    put_str(b, e->tb_str);
    LIT(b, "\xa9" "canceller");
    put_uid_or_nil(b, e->canceller);
    LIT(b, "\xa6" "sender");
    put_uid_or_nil(b, e->sender);
    LIT(b, "\xa3" "cid");
    if (e->cid)
        put_str(b, *e->cid);
    else
        tr__mp_nil(b);
    LIT(b, "\xa8" "_bad_msg");
    put_raw_or(b, e->bad_msg, "\xc0");
    LIT(b, "\xb0" "_bad_msg_as_dict");
    put_raw_or(b, e->bad_msg_as_dict, "\xc0");
    frame_finish(b, off);
}
