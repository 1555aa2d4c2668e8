/* A datagram client in C over UDP:
 *   dgram_client [--label LABEL] [--pq off|preferred|required] [--timeout SECONDS] HOST PORT [SERVER_KEY] < input > echoed
 * Sends its standard input to an echo service behind an ossuary datagram server, 1000 bytes per datagram, and writes
 * what comes back to standard output. Datagrams can be lost, so each carries a sequence number and is sent again
 * until its echo returns (one at a time: this is an example of the API, not a transport). With SERVER_KEY (base64,
 * as `ossuary id` prints it) the key is pinned (IK handshake); without it any server is accepted after printing its
 * fingerprint (XX). The identity is a fresh key pair.
 * Nothing answering (no server at HOST:PORT, or a server of another service label or key): after --timeout seconds
 * (default 10) without a handshake, or without the echo of a datagram, it says so in one line and exits 1. The
 * library itself gives up on a handshake only after 90 s (OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT). */
#include <netdb.h>
#include <stdlib.h>

#include "dgram_loop.h"

#define CHUNK 1000
#define DEFAULT_TIMEOUT_S 10

static const char *close_reason_text(int reason) {
    switch (reason) {
    case OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT: return "the server stopped answering";
    case OSSUARY_DGRAM_CLOSE_PEER_REJECTED: return "the server's key was refused";
    case OSSUARY_DGRAM_CLOSE_IDLE: return "idle";
    default: return "closed here";
    }
}

static const char *close_code_text(uint32_t code) {
    static char text[32];
    switch (code) {
    case OSSUARY_DGRAM_CODE_NORMAL: return "done";
    case OSSUARY_DGRAM_CODE_IDLE: return "idle";
    case OSSUARY_DGRAM_CODE_UNUSED: return "unused: nothing was sent on it";
    case OSSUARY_DGRAM_CODE_EVICTED: return "evicted: a newcomer needed its place";
    case OSSUARY_DGRAM_CODE_SHUTTING_DOWN: return "the server is shutting down";
    case OSSUARY_DGRAM_CODE_BUSY: return "the server is busy";
    default: snprintf(text, sizeof text, "code %u", code); return text;
    }
}

/* --timeout SECONDS: a positive number (fractions allowed), in milliseconds; -1 when it is not one. */
static long long timeout_ms(const char *text) {
    if (!text) return DEFAULT_TIMEOUT_S * 1000LL;
    char *end;
    double seconds = strtod(text, &end);
    if (end == text || *end != '\0' || !(seconds > 0) || seconds > 86400) return -1;
    long long ms = (long long)(seconds * 1000);
    return ms > 0 ? ms : 1;
}

static int show_server(const uint8_t key[32], const char *fingerprint, const char *address_hex, int peer_is_server, void *user) {
    (void)key; (void)address_hex; (void)peer_is_server; (void)user;
    fprintf(stderr, "server presents fingerprint %s\n", fingerprint);
    return 1;
}

int main(int argc, char **argv) {
    const char *label = take_option(&argc, argv, "--label");
    int pq = post_quantum_policy(take_option(&argc, argv, "--pq"));
    const char *timeout_text = take_option(&argc, argv, "--timeout");
    long long timeout = timeout_ms(timeout_text);
    if (argc < 3 || pq < 0 || timeout < 0) {
        if (timeout < 0) fprintf(stderr, "%s: --timeout takes a number of seconds above 0, not '%s'\n", argv[0], timeout_text);
        fprintf(stderr, "usage: %s [--label LABEL] [--pq off|preferred|required] [--timeout SECONDS] HOST PORT [SERVER_KEY]\n", argv[0]);
        return 2;
    }
    /* The server as the user named it, for messages: HOST:PORT, or [HOST]:PORT for an IPv6 address. */
    char where[300];
    snprintf(where, sizeof where, strchr(argv[1], ':') ? "[%s]:%s" : "%s:%s", argv[1], argv[2]);
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *server;
    if (getaddrinfo(argv[1], argv[2], &hints, &server) != 0) {
        fprintf(stderr, "%s: cannot resolve %s\n", argv[0], argv[1]);
        return 2;
    }
    int fd = socket(server->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 2;
    }

    uint8_t secret[32], public_key[32], server_key[32];
    if (ossuary_generate_keypair(secret, public_key) != OSSUARY_OK) return dgram_fail("keys", -1), 1;
    ossuary_dgram *ep = ossuary_dgram_new(secret, 0, now_ms());
    memset(secret, 0, sizeof secret);
    int pinned = argc > 3;
    if (!ep || (pinned && ossuary_public_key_from_text(argv[3], server_key) != OSSUARY_OK)
        || ossuary_dgram_set_verify_callback(ep, show_server, NULL) != OSSUARY_OK || apply_options(ep, label, pq) != OSSUARY_OK) {
        return dgram_fail("setup", -1), 1;
    }
    ossuary_dgram_conn conn;
    int rc = ossuary_dgram_connect(ep, (const uint8_t *)server->ai_addr, server->ai_addrlen, pinned ? server_key : NULL, NULL, 0, now_ms(), &conn);
    freeaddrinfo(server);
    if (rc != OSSUARY_OK) return dgram_fail("connect", rc), 1;

    static uint8_t chunk[4 + CHUNK], echo[65536];
    uint32_t sequence = 0;
    size_t chunk_len = 0;
    int connected = 0, done = 0, status = 0;
    /* Until connected: when the handshake is given up; after: when the echo of the current chunk is. */
    uint64_t sent_at = 0, give_up_at = now_ms() + (uint64_t)timeout;
    while (!done) {
        if (chunk_len == 0) { /* the next chunk of input, or the end */
            size_t n = fread(chunk + 4, 1, CHUNK, stdin);
            if (n == 0) break;
            sequence++;
            for (int i = 0; i < 4; i++) chunk[i] = (uint8_t)(sequence >> (8 * i)); /* little-endian, as interop/plain_udp.py */
            chunk_len = 4 + n;
            sent_at = 0;
            if (connected) give_up_at = now_ms() + (uint64_t)timeout;
        }
        if (now_ms() >= give_up_at) {
            if (connected) {
                fprintf(stderr, "%s: no echo from %s for %.3g s: the server or the service behind it stopped answering\n", argv[0], where, timeout / 1000.0);
            } else {
                fprintf(stderr, "%s: no handshake with %s within %.3g s: nothing answered (is an ossuary datagram server listening there, "
                        "with the same service label%s?)\n", argv[0], where, timeout / 1000.0, pinned ? ", the key given and this client allowed" : "");
            }
            status = 1;
            break;
        }
        if (connected && (sent_at == 0 || now_ms() - sent_at >= 200)) {
            rc = ossuary_dgram_send(ep, conn, chunk, chunk_len, now_ms());
            if (rc < 0) return dgram_fail("send", rc), 1;
            sent_at = now_ms();
        }
        if (dgram_step(ep, fd, 50) != 0) return 1;
        ossuary_dgram_event e;
        while (ossuary_dgram_poll_event(ep, &e) == 1) {
            if (e.kind == OSSUARY_DGRAM_EVENT_CONNECTED) {
                connected = 1;
                give_up_at = now_ms() + (uint64_t)timeout;
            } else if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED && e.close_reason == OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT && !connected) {
                fprintf(stderr, "%s: no handshake with %s: the attempt timed out\n", argv[0], where);
                done = 1;
                status = 1;
            } else if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED) {
                if (e.close_reason == OSSUARY_DGRAM_CLOSE_BY_PEER) {
                    fprintf(stderr, "%s: %s closed the connection (%s)\n", argv[0], where, close_code_text(e.peer_close_code));
                } else {
                    fprintf(stderr, "%s: the connection to %s closed (%s)\n", argv[0], where, close_reason_text(e.close_reason));
                }
                done = 1;
                status = 1;
            }
        }
        size_t n;
        while (ossuary_dgram_recv(ep, conn, echo, sizeof echo, &n, NULL) == 1) {
            if (n == chunk_len && chunk_len > 0 && memcmp(echo, chunk, 4) == 0) { /* the echo of the current chunk; older ones are duplicates */
                fwrite(echo + 4, 1, n - 4, stdout);
                chunk_len = 0;
                give_up_at = now_ms() + (uint64_t)timeout;
            }
        }
    }
    fflush(stdout);
    rc = ossuary_dgram_close(ep, conn, 0, now_ms());
    if (rc != OSSUARY_OK) dgram_fail("close", rc);
    dgram_flush(ep, fd);
    ossuary_dgram_free(ep);
    close(fd);
    return status;
}
