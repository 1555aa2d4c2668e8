/* Driving an ossuary_connection over a socket: the handshake, then a netcat-style pump between stdin/stdout and
 * the peer with half-close. Shared by client.c and server.c. */
#ifndef OSSUARY_EXAMPLE_SESSION_H
#define OSSUARY_EXAMPLE_SESSION_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ossuary.h>

static uint8_t session_out[OSSUARY_MAX_FRAME_BYTES];
static uint8_t session_in[OSSUARY_MAX_FRAME_BYTES];
static size_t session_in_len;

static int fail(const char *what, int rc) {
    fprintf(stderr, "%s: %d: %s\n", what, rc, ossuary_last_error());
    return rc;
}

static int write_all(int fd, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("write");
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends everything the connection has queued (handshake messages, pongs, the close, alerts). */
static int flush_to(ossuary_connection *conn, int fd) {
    for (;;) {
        size_t n = 0;
        int rc = ossuary_flush(conn, session_out, sizeof session_out, &n);
        if (n > 0 && write_all(fd, session_out, n) != 0) return -1;
        if (rc == OSSUARY_OK) return 0;
        if (rc != OSSUARY_BUFFER_TOO_SMALL) return fail("flush", rc);
    }
}

static int run_handshake(ossuary_connection *conn, int fd) {
    int done;
    while ((done = ossuary_handshake_done(conn)) == 0) {
        if (flush_to(conn, fd) != 0) return -1;
        if (ossuary_handshake_done(conn) != 0) break;
        if (session_in_len == 0) {
            ssize_t n = recv(fd, session_in, sizeof session_in, 0);
            if (n <= 0) {
                int rc = ossuary_end_of_input(conn);
                return fail("handshake: connection ended", rc != OSSUARY_OK ? rc : OSSUARY_ERR_TRUNCATED);
            }
            session_in_len = (size_t)n;
        }
        size_t used = 0;
        int rc = ossuary_handshake_recv(conn, session_in, session_in_len, &used);
        memmove(session_in, session_in + used, session_in_len - used);
        session_in_len -= used;
        if (rc < 0) {
            flush_to(conn, fd); /* a clear alert, so the peer learns why */
            return fail("handshake", rc);
        }
    }
    if (done < 0) return fail("handshake", done);
    return flush_to(conn, fd);
}

/* Delivers plaintext from whatever input is buffered; returns 1 when the peer has closed, 0 to go on, <0 on error. */
static int deliver(ossuary_connection *conn, int fd) {
    static uint8_t plain[OSSUARY_MAX_FRAME_BYTES];
    for (;;) {
        size_t used = 0, n = 0;
        int rc = ossuary_recv_data(conn, session_in, session_in_len, &used, plain, sizeof plain, &n);
        memmove(session_in, session_in + used, session_in_len - used);
        session_in_len -= used;
        if (n > 0 && write_all(STDOUT_FILENO, plain, n) != 0) return -1;
        switch (rc) {
        case OSSUARY_NEED_MORE_INPUT: return 0;
        case OSSUARY_CLOSED: return 1;
        case OSSUARY_BUFFER_TOO_SMALL: continue;
        case OSSUARY_OUTPUT_PENDING: if (flush_to(conn, fd) != 0) return -1; continue;
        default: return fail("receive", rc);
        }
    }
}

/* Copies stdin to the peer and the peer to stdout until both directions have closed. */
static int pump(ossuary_connection *conn, int fd) {
    static uint8_t chunk[16384];
    int stdin_open = 1, peer_open = 1;
    int first = deliver(conn, fd); /* records that arrived with the handshake */
    if (first < 0) return -1;
    if (first == 1) peer_open = 0;
    while (stdin_open || peer_open) {
        struct pollfd fds[2] = { { STDIN_FILENO, stdin_open ? POLLIN : 0, 0 }, { fd, peer_open ? POLLIN : 0, 0 } };
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return -1;
        }
        if (stdin_open && (fds[0].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
            if (n <= 0) {
                int rc = ossuary_close(conn); /* the authenticated close: the peer reads a clean end */
                if (rc != OSSUARY_OK) return fail("close", rc);
                if (flush_to(conn, fd) != 0) return -1;
                shutdown(fd, SHUT_WR);
                stdin_open = 0;
            } else {
                size_t offset = 0;
                while (offset < (size_t)n) {
                    size_t used = 0, written = 0;
                    int rc = ossuary_send_data(conn, chunk + offset, (size_t)n - offset, &used, session_out, sizeof session_out, &written);
                    if (rc != OSSUARY_OK && rc != OSSUARY_BUFFER_TOO_SMALL) return fail("send", rc);
                    if (write_all(fd, session_out, written) != 0) return -1;
                    offset += used;
                }
            }
        }
        if (peer_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = recv(fd, session_in + session_in_len, sizeof session_in - session_in_len, 0);
            if (n <= 0) {
                int rc = ossuary_end_of_input(conn);
                if (rc != OSSUARY_OK) return fail("connection ended", rc);
                peer_open = 0;
            } else {
                session_in_len += (size_t)n;
                int r = deliver(conn, fd);
                if (r < 0) return -1;
                if (r == 1) peer_open = 0;
            }
        }
    }
    return 0;
}

#endif
