/* A datagram echo server in C over UDP: dgram_server [--label LABEL] [--pq off|preferred|required] PORT [--once]
 * Binds 127.0.0.1:PORT (0 picks a free port), prints "listening on 127.0.0.1:P key KEY" on stderr, accepts any client
 * (printing its fingerprint), and sends every datagram back on the connection it came on. With --once it exits when
 * its first connection closes. The identity is a fresh key pair.
 * A connection exists once ACCEPTED is raised: for IK, when the client's first packet under the new keys arrived. A
 * handshake that never got that far (its keys unconfirmed after 15 s) is reported CLOSED too, under a number that was
 * never accepted: it is no connection, and does not end --once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "dgram_loop.h"

/* The connections accepted and not closed yet. */
static ossuary_dgram_conn *live;
static size_t live_count, live_capacity;

static void remember(ossuary_dgram_conn conn) {
    if (live_count == live_capacity) {
        size_t capacity = live_capacity ? 2 * live_capacity : 16;
        ossuary_dgram_conn *grown = realloc(live, capacity * sizeof *live);
        if (!grown) return; /* not remembered: its close is then reported as an unconfirmed handshake's */
        live = grown;
        live_capacity = capacity;
    }
    live[live_count++] = conn;
}

/* 1 when conn was a live connection (it is forgotten), 0 when it never was one. */
static int forget(ossuary_dgram_conn conn) {
    for (size_t i = 0; i < live_count; i++) {
        if (live[i] == conn) {
            live[i] = live[--live_count];
            return 1;
        }
    }
    return 0;
}

static int show_client(const uint8_t key[32], const char *fingerprint, const char *address_hex, int peer_is_server, void *user) {
    (void)key; (void)address_hex; (void)peer_is_server; (void)user;
    fprintf(stderr, "client %s\n", fingerprint);
    return 1;
}

int main(int argc, char **argv) {
    const char *label = take_option(&argc, argv, "--label");
    int pq = post_quantum_policy(take_option(&argc, argv, "--pq"));
    if (argc < 2 || pq < 0) {
        fprintf(stderr, "usage: %s [--label LABEL] [--pq off|preferred|required] PORT [--once]\n", argv[0]);
        return 2;
    }
    int once = argc > 2 && strcmp(argv[2], "--once") == 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
    socklen_t local_len = sizeof local;
    if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof local) != 0 || getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) {
        perror("bind");
        return 2;
    }

    uint8_t secret[32], public_key[32];
    char key_text[OSSUARY_PUBLIC_KEY_TEXT_BYTES];
    if (ossuary_generate_keypair(secret, public_key) != OSSUARY_OK || ossuary_public_key_to_text(public_key, key_text, sizeof key_text) != OSSUARY_OK) {
        return dgram_fail("keys", -1), 1;
    }
    ossuary_dgram *ep = ossuary_dgram_new(secret, 1, now_ms());
    memset(secret, 0, sizeof secret);
    if (!ep || ossuary_dgram_set_verify_callback(ep, show_client, NULL) != OSSUARY_OK || apply_options(ep, label, pq) != OSSUARY_OK) {
        return dgram_fail("setup", -1), 1;
    }
    fprintf(stderr, "listening on 127.0.0.1:%d key %s\n", ntohs(local.sin_port), key_text);

    static uint8_t datagram[65536];
    int status = 0;
    for (int running = 1; running;) {
        if (dgram_step(ep, fd, 1000) != 0) {
            status = 1;
            break;
        }
        ossuary_dgram_event e;
        while (ossuary_dgram_poll_event(ep, &e) == 1) {
            if (e.kind == OSSUARY_DGRAM_EVENT_ACCEPTED) {
                remember(e.conn);
                uint64_t pattern = 0;
                if (ossuary_dgram_conn_statistic(ep, e.conn, OSSUARY_DGRAM_CONN_PATTERN, &pattern) == OSSUARY_OK) {
                    static const char *names[] = { "?", "XX", "IK", "XXhfs", "IKhfs" };
                    fprintf(stderr, "accepted connection %llu (%s)\n", (unsigned long long)e.conn, names[pattern <= 4 ? pattern : 0]);
                }
            } else if (e.kind == OSSUARY_DGRAM_EVENT_READABLE) {
                size_t n;
                while (ossuary_dgram_recv(ep, e.conn, datagram, sizeof datagram, &n, NULL) == 1) {
                    int rc = ossuary_dgram_send(ep, e.conn, datagram, n, now_ms());
                    if (rc < 0) dgram_fail("send", rc);
                }
            } else if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED && forget(e.conn)) {
                fprintf(stderr, "connection %llu closed (reason %d, code %u)\n", (unsigned long long)e.conn, e.close_reason, e.peer_close_code);
                if (once) running = 0;
            } else if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED) {
                fprintf(stderr, "handshake %llu ended without a connection (reason %d): the client never confirmed its keys\n",
                        (unsigned long long)e.conn, e.close_reason);
            }
        }
        if (dgram_flush(ep, fd) != 0) status = 1;
    }
    ossuary_dgram_free(ep);
    free(live);
    close(fd);
    return status;
}
