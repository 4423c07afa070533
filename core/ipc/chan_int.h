/* What chan.c and chan_read.c share about a channel. Internal to core/ipc. */
#ifndef TR_CORE_IPC_CHAN_INT_H
#define TR_CORE_IPC_CHAN_INT_H

#include "core/ipc/ipc.h"

#define TR__CHUNK_DEFAULT (64 * 1024)
#define TR__CHUNK_MIN_FREE 4096
#define TR__NSPARE (sizeof(((tr__chan_t *)0)->spare) / sizeof(tr__chunk_t *))
#define TR__SPARE_BUDGET (4 * 1024 * 1024) /* spare chunk bytes kept per channel */

/* I/O thread: close now (no flush); the reason set first wins. */
void tr__chan_close_now(tr__chan_t *c);
void tr__chan_set_reason(tr__chan_t *c, const char *reason);
/* I/O thread: close the socket once no leader reads it (chan.c). */
void tr__chan_close_stream(tr__chan_t *c);
/* I/O thread: the peer's handshake was invalid (`why`): close. */
void tr__chan_handshake_fail(tr__chan_t *c, const char *why);

#endif
