/* Python binding: value conversion Python <-> msgpack (see py_values.h). */
#include "py_common.h"

#include <stdint.h>
#include <string.h>

#include "py_errors.h"
#include "py_values.h"

#define MAX_DEPTH 256

/* ======================================================================
 * msgpack writer
 * ====================================================================== */

void pb_free(pbuf_t *b) {
    PyMem_Free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int pb_reserve(pbuf_t *b, size_t n) {
    if (b->len + n <= b->cap) return 0;
    size_t nc = b->cap ? b->cap * 2 : 64;
    while (nc < b->len + n) nc *= 2;
    char *np = PyMem_Realloc(b->p, nc);
    if (!np) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = np;
    b->cap = nc;
    return 0;
}

static int pb_put(pbuf_t *b, const void *d, size_t n) {
    if (pb_reserve(b, n)) return -1;
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int pb_byte(pbuf_t *b, uint8_t v) { return pb_put(b, &v, 1); }

static int pb_be(pbuf_t *b, uint8_t tag, uint64_t v, int nbytes) {
    uint8_t t[9];
    t[0] = tag;
    for (int i = 0; i < nbytes; i++) t[1 + i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    return pb_put(b, t, (size_t)nbytes + 1);
}

static int pb_uint(pbuf_t *b, uint64_t v) {
    if (v < 128) return pb_byte(b, (uint8_t)v);
    if (v <= 0xff) return pb_be(b, 0xcc, v, 1);
    if (v <= 0xffff) return pb_be(b, 0xcd, v, 2);
    if (v <= 0xffffffffu) return pb_be(b, 0xce, v, 4);
    return pb_be(b, 0xcf, v, 8);
}

static int pb_int(pbuf_t *b, int64_t v) {
    if (v >= 0) return pb_uint(b, (uint64_t)v);
    if (v >= -32) return pb_byte(b, (uint8_t)(0xe0 | (v + 32)));
    if (v >= INT8_MIN) return pb_be(b, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN) return pb_be(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN) return pb_be(b, 0xd2, (uint64_t)v, 4);
    return pb_be(b, 0xd3, (uint64_t)v, 8);
}

static int pb_len(pbuf_t *b, size_t n, uint8_t fix, size_t fixmax, uint8_t t8, uint8_t t16,
                  uint8_t t32) {
    if (fix && n <= fixmax) return pb_byte(b, (uint8_t)(fix | n));
    if (t8 && n <= 0xff) return pb_be(b, t8, n, 1);
    if (n <= 0xffff) return pb_be(b, t16, n, 2);
    if (n <= 0xffffffffu) return pb_be(b, t32, n, 4);
    return -2;
}

static int too_big(const char *what, size_t n) {
    raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                "%s of length %zu is too large for msgpack", what, n);
    return -1;
}

static int pack_obj(pbuf_t *b, PyObject *o, int depth) {
    if (depth > MAX_DEPTH) {
        raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                    "value nested deeper than %d levels (a cycle?) cannot be encoded", MAX_DEPTH);
        return -1;
    }
    if (o == Py_None) return pb_byte(b, 0xc0);
    if (o == Py_True) return pb_byte(b, 0xc3);
    if (o == Py_False) return pb_byte(b, 0xc2);
    if (PyLong_Check(o)) {
        int ovf = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &ovf);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (ovf == 0) return pb_int(b, (int64_t)v);
        if (ovf > 0) {
            unsigned long long u = PyLong_AsUnsignedLongLong(o);
            if (!(u == (unsigned long long)-1 && PyErr_Occurred())) return pb_uint(b, u);
            PyErr_Clear();
        }
        PyObject *r = PyObject_Repr(o);
        const char *rs = r ? PyUnicode_AsUTF8(r) : NULL;
        if (!rs) PyErr_Clear();
        raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                    "int %.60s%s is out of msgpack's 64-bit range", rs ? rs : "?",
                    rs && strlen(rs) > 60 ? "..." : "");
        Py_XDECREF(r);
        return -1;
    }
    if (PyFloat_Check(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        uint64_t u;
        memcpy(&u, &d, 8);
        return pb_be(b, 0xcb, u, 8);
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (!s) return -1;
        int rc = pb_len(b, (size_t)n, 0xa0, 31, 0xd9, 0xda, 0xdb);
        if (rc == -2) return too_big("str", (size_t)n);
        return rc ? rc : pb_put(b, s, (size_t)n);
    }
    if (PyBytes_Check(o) || PyByteArray_Check(o)) {
        const char *s = PyBytes_Check(o) ? PyBytes_AS_STRING(o) : PyByteArray_AS_STRING(o);
        size_t n = (size_t)(PyBytes_Check(o) ? PyBytes_GET_SIZE(o) : PyByteArray_GET_SIZE(o));
        int rc = pb_len(b, n, 0, 0, 0xc4, 0xc5, 0xc6);
        if (rc == -2) return too_big("bytes", n);
        return rc ? rc : pb_put(b, s, n);
    }
    if (PyList_Check(o) || PyTuple_Check(o)) {
        PyObject *seq = o;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        int rc = pb_len(b, (size_t)n, 0x90, 15, 0, 0xdc, 0xdd);
        if (rc == -2) return too_big("list", (size_t)n);
        if (rc) return rc;
        for (Py_ssize_t i = 0; i < n; i++) {
            /* a list may change under us if the item's encoding runs code:
             * re-check the size */
            if (i >= PySequence_Fast_GET_SIZE(seq)) {
                PyErr_SetString(PyExc_RuntimeError, "list changed size during encoding");
                return -1;
            }
            if (pack_obj(b, PySequence_Fast_GET_ITEM(seq, i), depth + 1)) return -1;
        }
        return 0;
    }
    if (PyDict_Check(o)) {
        Py_ssize_t n = PyDict_GET_SIZE(o), pos = 0, k = 0;
        int rc = pb_len(b, (size_t)n, 0x80, 15, 0, 0xde, 0xdf);
        if (rc == -2) return too_big("dict", (size_t)n);
        if (rc) return rc;
        PyObject *key, *val;
        while (PyDict_Next(o, &pos, &key, &val)) {
            if (pack_obj(b, key, depth + 1) || pack_obj(b, val, depth + 1)) return -1;
            k++;
        }
        if (k != n) {
            PyErr_SetString(PyExc_RuntimeError, "dict changed size during encoding");
            return -1;
        }
        return 0;
    }
    raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                "cannot encode a value of type '%.100s' as msgpack (supported: None, bool, "
                "int, float, str, bytes, list, tuple, dict)",
                Py_TYPE(o)->tp_name);
    return -1;
}

/* Encode `o` into a fresh buffer `b`. */
int pack_value(PyObject *o, pbuf_t *b) {
    memset(b, 0, sizeof *b);
    if (pack_obj(b, o, 0)) {
        pb_free(b);
        return -1;
    }
    return 0;
}

int pack_kwargs(PyObject *kw, pbuf_t *b) {
    memset(b, 0, sizeof *b);
    if (!kw || kw == Py_None) return 0;
    if (!PyDict_Check(kw)) {
        PyErr_SetString(PyExc_TypeError, "kwargs must be a dict");
        return -1;
    }
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(kw, &pos, &key, &val))
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "keyword argument names must be str, not %.100s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
    return pack_value(kw, b);
}

/* ======================================================================
 * msgpack reader
 * ====================================================================== */

typedef struct {
    const uint8_t *p, *end;
} rd_t;

PyObject *rd_error(const char *what) {
    return raise_local(TR_EPROTO, "MsgTypeError", "decode", "malformed msgpack payload: %s", what);
}

static int rd_need(rd_t *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) {
        rd_error("truncated");
        return -1;
    }
    return 0;
}

static uint64_t rd_be(rd_t *r, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | r->p[i];
    r->p += n;
    return v;
}

static PyObject *unpack_obj(rd_t *r, int depth);

static PyObject *unpack_array(rd_t *r, size_t n, int depth) {
    if ((size_t)(r->end - r->p) < n) return rd_error("array longer than the payload");
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *v = unpack_obj(r, depth + 1);
        if (!v) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, v);
    }
    return l;
}

static PyObject *unpack_map(rd_t *r, size_t n, int depth) {
    if ((size_t)(r->end - r->p) / 2 < n) return rd_error("map longer than the payload");
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *k = unpack_obj(r, depth + 1);
        if (!k) goto fail;
        if (PyList_Check(k)) { /* msgpack allows array keys: use a tuple */
            PyObject *t = PyList_AsTuple(k);
            Py_DECREF(k);
            if (!(k = t)) goto fail;
        }
        PyObject *v = unpack_obj(r, depth + 1);
        if (!v) {
            Py_DECREF(k);
            goto fail;
        }
        int rc = PyDict_SetItem(d, k, v);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc) goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *unpack_obj(rd_t *r, int depth) {
    if (depth > MAX_DEPTH) return rd_error("nested too deeply");
    if (rd_need(r, 1)) return NULL;
    uint8_t t = *r->p++;
    size_t n;
    if (t <= 0x7f) return PyLong_FromLong(t);
    if (t >= 0xe0) return PyLong_FromLong((int8_t)t);
    if ((t & 0xf0) == 0x80) return unpack_map(r, t & 0x0f, depth);
    if ((t & 0xf0) == 0x90) return unpack_array(r, t & 0x0f, depth);
    if ((t & 0xe0) == 0xa0) {
        n = t & 0x1f;
        goto str;
    }
    switch (t) {
    case 0xc0: Py_RETURN_NONE;
    case 0xc2: Py_RETURN_FALSE;
    case 0xc3: Py_RETURN_TRUE;
    case 0xc4: case 0xc5: case 0xc6: {
        int w = t == 0xc4 ? 1 : t == 0xc5 ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        n = (size_t)rd_be(r, w);
        if (rd_need(r, n)) return NULL;
        PyObject *o = PyBytes_FromStringAndSize((const char *)r->p, (Py_ssize_t)n);
        r->p += n;
        return o;
    }
    case 0xca: {
        if (rd_need(r, 4)) return NULL;
        uint32_t u = (uint32_t)rd_be(r, 4);
        float f;
        memcpy(&f, &u, 4);
        return PyFloat_FromDouble(f);
    }
    case 0xcb: {
        if (rd_need(r, 8)) return NULL;
        uint64_t u = rd_be(r, 8);
        double d;
        memcpy(&d, &u, 8);
        return PyFloat_FromDouble(d);
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        int w = 1 << (t - 0xcc);
        if (rd_need(r, (size_t)w)) return NULL;
        return PyLong_FromUnsignedLongLong(rd_be(r, w));
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int w = 1 << (t - 0xd0);
        if (rd_need(r, (size_t)w)) return NULL;
        uint64_t u = rd_be(r, w);
        int64_t v;
        if (w == 1) v = (int8_t)u;
        else if (w == 2) v = (int16_t)u;
        else if (w == 4) v = (int32_t)u;
        else v = (int64_t)u;
        return PyLong_FromLongLong(v);
    }
    case 0xd9: case 0xda: case 0xdb: {
        int w = t == 0xd9 ? 1 : t == 0xda ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        n = (size_t)rd_be(r, w);
        goto str;
    }
    case 0xdc: case 0xdd: {
        int w = t == 0xdc ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        return unpack_array(r, (size_t)rd_be(r, w), depth);
    }
    case 0xde: case 0xdf: {
        int w = t == 0xde ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        return unpack_map(r, (size_t)rd_be(r, w), depth);
    }
    default:
        return raise_local(TR_EMSGTYPE, "MsgTypeError", "decode",
                           "msgpack type 0x%02x (ext) is not supported", t);
    }
str:
    if (rd_need(r, n)) return NULL;
    {
        PyObject *o = PyUnicode_DecodeUTF8((const char *)r->p, (Py_ssize_t)n, "strict");
        r->p += n;
        return o;
    }
}

/* Decode one payload; an empty payload is None. */
PyObject *unpack_bytes(const void *data, size_t len) {
    if (!len) Py_RETURN_NONE;
    rd_t r = {(const uint8_t *)data, (const uint8_t *)data + len};
    PyObject *o = unpack_obj(&r, 0);
    if (o && r.p != r.end) {
        Py_DECREF(o);
        return rd_error("trailing bytes after the value");
    }
    return o;
}

PyObject *unpack_buf(tr_buf_t *b) {
    PyObject *o = unpack_bytes(b->data, b->len);
    tr_buf_release(b);
    return o;
}
