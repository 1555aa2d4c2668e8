/* A secure netcat server in C: server PORT [KEY_FILE]
 * Accepts one client (any key: encryption-only unless you add authorized keys), prints its own public key on stderr
 * (so a client can pin it), then copies stdin to the client and the client to stdout. KEY_FILE is an ossuary key
 * file (mode 0600), e.g. from `ossuary keygen --key FILE`; without it a fresh key pair is used. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "args.h"
#include "session.h"

int main(int argc, char **argv) {
    int pq = post_quantum_policy(take_option(&argc, argv, "--pq"));
    if (argc < 2 || pq < 0) {
        fprintf(stderr, "usage: %s [--pq off|preferred|required] PORT [KEY_FILE]\n", argv[0]);
        return 2;
    }
    uint8_t secret[32], public_key[32];
    int rc = argc > 2 ? ossuary_keypair_load(argv[2], secret, public_key) : ossuary_generate_keypair(secret, public_key);
    if (rc != OSSUARY_OK) return fail("key", rc), 1;
    char text[OSSUARY_PUBLIC_KEY_TEXT_BYTES], fingerprint[OSSUARY_FINGERPRINT_BYTES];
    if (ossuary_public_key_to_text(public_key, text, sizeof text) != OSSUARY_OK || ossuary_fingerprint(public_key, fingerprint, sizeof fingerprint) != OSSUARY_OK) {
        return fail("key text", -1), 1;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0
        || getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("listen");
        return 2;
    }
    fprintf(stderr, "listening on 127.0.0.1:%d key %s fingerprint %s\n", ntohs(address.sin_port), text, fingerprint);
    int fd = accept(listener, NULL, NULL);
    close(listener);
    if (fd < 0) {
        perror("accept");
        return 2;
    }

    ossuary_connection *conn = ossuary_connection_new(OSSUARY_ROLE_SERVER);
    if (!conn || ossuary_set_secret_key(conn, secret) != OSSUARY_OK || ossuary_set_accept_any_peer(conn) != OSSUARY_OK || ossuary_set_post_quantum(conn, pq) != OSSUARY_OK) {
        return fail("setup", -1), 1;
    }
    memset(secret, 0, sizeof secret);
    int status = 1;
    if (run_handshake(conn, fd) == 0) {
        char client[OSSUARY_FINGERPRINT_BYTES];
        if (ossuary_remote_fingerprint(conn, client, sizeof client) == OSSUARY_OK) {
            fprintf(stderr, "client fingerprint %s\n", client);
        }
        status = pump(conn, fd) == 0 ? 0 : 1;
    }
    ossuary_connection_free(conn);
    close(fd);
    return status;
}
