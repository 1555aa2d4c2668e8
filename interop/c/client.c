/* A secure netcat client in C: client HOST PORT [SERVER_KEY]
 * With SERVER_KEY (base64, as `ossuary id` prints it) the key is pinned (IK handshake); without it any server is
 * accepted after printing its fingerprint (first contact, XX). The identity is a fresh key pair. */
#include <netdb.h>
#include <stdlib.h>

#include "args.h"
#include "session.h"

static int show_server(const uint8_t key[32], const char *fingerprint, const char *endpoint, int peer_is_server, void *user) {
    (void)key; (void)user; (void)peer_is_server;
    fprintf(stderr, "server %s presents fingerprint %s\n", endpoint ? endpoint : "?", fingerprint);
    return 1;
}

int main(int argc, char **argv) {
    int pq = post_quantum_policy(take_option(&argc, argv, "--pq"));
    if (argc < 3 || pq < 0) {
        fprintf(stderr, "usage: %s [--pq off|preferred|required] HOST PORT [SERVER_KEY]\n", argv[0]);
        return 2;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *address;
    if (getaddrinfo(argv[1], argv[2], &hints, &address) != 0) {
        fprintf(stderr, "cannot resolve %s\n", argv[1]);
        return 2;
    }
    int fd = socket(address->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
        perror("connect");
        return 2;
    }
    freeaddrinfo(address);

    uint8_t secret[32], public_key[32], server_key[32];
    ossuary_connection *conn = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "%s:%s", argv[1], argv[2]);
    if (!conn || ossuary_generate_keypair(secret, public_key) != OSSUARY_OK || ossuary_set_secret_key(conn, secret) != OSSUARY_OK
        || ossuary_set_endpoint(conn, endpoint) != OSSUARY_OK || ossuary_set_post_quantum(conn, pq) != OSSUARY_OK) {
        return fail("setup", -1), 1;
    }
    memset(secret, 0, sizeof secret);
    if (argc > 3) {
        if (ossuary_public_key_from_text(argv[3], server_key) != OSSUARY_OK || ossuary_set_server_key(conn, server_key) != OSSUARY_OK) {
            return fail("server key", -1), 1;
        }
    } else if (ossuary_set_verify_callback(conn, show_server, NULL) != OSSUARY_OK) {
        return fail("callback", -1), 1;
    }
    int status = run_handshake(conn, fd) == 0 && pump(conn, fd) == 0 ? 0 : 1;
    ossuary_connection_free(conn);
    close(fd);
    return status;
}
