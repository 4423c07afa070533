/* Listening sockets (TCP and UDS) that turn accepted connections into
 * channels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ipc/ipc.h"
#include "tractor/tractor.h"

static void on_connection(uv_stream_t *server, int status) {
    tr__listener_t *l = server->data;
    if (status < 0 || !l->active) return;
    tr__chan_t *c = tr__chan_new(l->rset, l->addr.kind, l->cbs, l->owner,
                                 l->local, l->max_frame);
    if (!c) return;
    if (uv_accept(server, &c->h.stream) != 0) {
        tr__chan_close(c, 0, "accept failed");
        return;
    }
    if (l->on_accept) l->on_accept(c);
    tr__chan_start(c, l->hs_timeout_ms);
}

/* 1 when something accepts connections at `path`. */
static int uds_in_use(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return used;
}

int tr__listen(tr__rset_t *rs, tr__listener_t *l, const tr__addr_t *a,
               char *err, size_t errlen) {
    int rc;
    l->addr = *a;
    l->rset = rs;
    if (a->kind == TR__ADDR_TCP) {
        struct sockaddr_storage ss;
        uv_tcp_init(rs->loop, &l->h.tcp);
        l->h.stream.data = l;
        if (strchr(a->host, ':'))
            rc = uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss);
        else
            rc = uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
        if (rc == 0) rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
        if (rc == 0) rc = uv_listen(&l->h.stream, 128, on_connection);
        if (rc != 0) {
            snprintf(err, errlen, "cannot listen on %s:%d: %s", a->host, a->port,
                     uv_strerror(rc));
            uv_close((uv_handle_t *)&l->h.tcp, NULL);
            return TR_EADDR;
        }
        struct sockaddr_storage got;
        int len = sizeof got;
        uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&got, &len);
        if (got.ss_family == AF_INET)
            l->addr.port = ntohs(((struct sockaddr_in *)&got)->sin_port);
        else
            l->addr.port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    } else {
        char path[400];
        if (tr__addr_uds_path(a, path, sizeof path) != 0) {
            snprintf(err, errlen, "UDS path too long");
            return TR_EADDR;
        }
        if (mkdir(a->dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", a->dir, strerror(errno));
            return TR_EADDR;
        }
        struct stat st;
        if (stat(a->dir, &st) != 0 || st.st_uid != getuid()) {
            snprintf(err, errlen, "UDS directory %s is not owned by us", a->dir);
            return TR_EPERM;
        }
        if (access(path, F_OK) == 0) {
            if (uds_in_use(path)) {
                snprintf(err, errlen, "address %s is already in use", path);
                return TR_EADDR;
            }
            unlink(path); /* stale socket file of a dead actor */
        }
        uv_pipe_init(rs->loop, &l->h.pipe, 0);
        l->h.stream.data = l;
        rc = uv_pipe_bind(&l->h.pipe, path);
        if (rc == 0) rc = uv_listen(&l->h.stream, 128, on_connection);
        if (rc != 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", path, uv_strerror(rc));
            uv_close((uv_handle_t *)&l->h.pipe, NULL);
            return TR_EADDR;
        }
        chmod(path, 0600);
    }
    l->active = 1;
    return 0;
}

void tr__listener_close(tr__listener_t *l) {
    if (!l->active) return;
    l->active = 0;
    uv_close((uv_handle_t *)&l->h.stream, NULL);
    if (l->addr.kind == TR__ADDR_UDS) {
        char path[400];
        if (tr__addr_uds_path(&l->addr, path, sizeof path) == 0) unlink(path);
    }
}
