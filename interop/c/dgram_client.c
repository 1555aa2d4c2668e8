/* A datagram client in C over UDP: dgram_client [--label LABEL] [--pq off|preferred|required] HOST PORT [SERVER_KEY] < input > echoed
 * Sends its standard input to an echo service behind an ossuary datagram server, 1000 bytes per datagram, and writes
 * what comes back to standard output. Datagrams can be lost, so each carries a sequence number and is sent again
 * until its echo returns (one at a time: this is an example of the API, not a transport). With SERVER_KEY (base64,
 * as `ossuary id` prints it) the key is pinned (IK handshake); without it any server is accepted after printing its
 * fingerprint (XX). The identity is a fresh key pair. */
#include <netdb.h>
#include <stdlib.h>

#include "dgram_loop.h"

#define CHUNK 1000

static int show_server(const uint8_t key[32], const char *fingerprint, const char *address_hex, int peer_is_server, void *user) {
    (void)key; (void)address_hex; (void)peer_is_server; (void)user;
    fprintf(stderr, "server presents fingerprint %s\n", fingerprint);
    return 1;
}

int main(int argc, char **argv) {
    const char *label = take_option(&argc, argv, "--label");
    int pq = post_quantum_policy(take_option(&argc, argv, "--pq"));
    if (argc < 3 || pq < 0) {
        fprintf(stderr, "usage: %s [--label LABEL] [--pq off|preferred|required] HOST PORT [SERVER_KEY]\n", argv[0]);
        return 2;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *server;
    if (getaddrinfo(argv[1], argv[2], &hints, &server) != 0) {
        fprintf(stderr, "cannot resolve %s\n", argv[1]);
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
    uint64_t sent_at = 0;
    while (!done) {
        if (chunk_len == 0) { /* the next chunk of input, or the end */
            size_t n = fread(chunk + 4, 1, CHUNK, stdin);
            if (n == 0) break;
            sequence++;
            for (int i = 0; i < 4; i++) chunk[i] = (uint8_t)(sequence >> (8 * i)); /* little-endian, as interop/plain_udp.py */
            chunk_len = 4 + n;
            sent_at = 0;
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
            } else if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED) {
                fprintf(stderr, "connection closed (reason %d)\n", e.close_reason);
                done = 1;
                status = 1;
            }
        }
        size_t n;
        while (ossuary_dgram_recv(ep, conn, echo, sizeof echo, &n, NULL) == 1) {
            if (n == chunk_len && chunk_len > 0 && memcmp(echo, chunk, 4) == 0) { /* the echo of the current chunk; older ones are duplicates */
                fwrite(echo + 4, 1, n - 4, stdout);
                chunk_len = 0;
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
