/* Python binding: value conversion Python <-> msgpack (in C, no dependency).
 *
 * Supported: None, bool, int (64-bit range), float, str, bytes/bytearray,
 * list/tuple (decoded as list; as tuple when a map key), dict. Failures
 * raise MsgTypeError through the exception factory (py_errors.h). */
#ifndef TR_PY_VALUES_H
#define TR_PY_VALUES_H

#include "py_common.h"

/* A growable encode buffer (PyMem-allocated). */
typedef struct {
    char *p;
    size_t len, cap;
} pbuf_t;

TRPY_INTERNAL void pb_free(pbuf_t *b);

/* Encode `o` into `b` (initialised here). 0, or -1 with an exception set
 * and `b` freed. */
TRPY_INTERNAL int pack_value(PyObject *o, pbuf_t *b);

/* Encode call kwargs: NULL/None is an empty payload, otherwise a dict with
 * str keys. 0, or -1 with an exception set. */
TRPY_INTERNAL int pack_kwargs(PyObject *kw, pbuf_t *b);

/* Raise "malformed msgpack payload: <what>". Always returns NULL. */
TRPY_INTERNAL PyObject *rd_error(const char *what);

/* Decode one payload; an empty payload is None. */
TRPY_INTERNAL PyObject *unpack_bytes(const void *data, size_t len);

/* unpack_bytes() of a runtime buffer, which is released. */
TRPY_INTERNAL PyObject *unpack_buf(tr_buf_t *b);

#endif
