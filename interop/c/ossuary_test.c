/* Exercises every function of ossuary.h, its error paths, and full conversations between two connections in
 * memory. Prints one line per failed check and a closing "N passed, N failed" line; exits non-zero on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ossuary.h>

static int passed, failed;

#define CHECK(cond) do { if (cond) passed++; else { failed++; fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, ossuary_last_error()); } } while (0)

static uint8_t client_secret[32], client_public[32], server_secret[32], server_public[32], other_secret[32], other_public[32];

/* A byte pipe between the two connections. */
typedef struct { uint8_t data[1 << 20]; size_t len; } pipe_t;
static pipe_t to_server, to_client;

static int flush_into(ossuary_connection *c, pipe_t *p) {
    for (;;) {
        size_t n = 0;
        int rc = ossuary_flush(c, p->data + p->len, sizeof p->data - p->len, &n);
        p->len += n;
        if (rc != OSSUARY_BUFFER_TOO_SMALL) return rc;
    }
}

static void take(pipe_t *p, size_t n) {
    memmove(p->data, p->data + n, p->len - n);
    p->len -= n;
}

/* Runs both handshakes to completion (or failure); returns the first negative status seen, or 0. */
static int handshake(ossuary_connection *client, ossuary_connection *server) {
    to_server.len = to_client.len = 0;
    int error = 0;
    for (int round = 0; round < 10; round++) {
        int rc = flush_into(client, &to_server);
        if (rc < 0 && !error) error = rc;
        if (to_server.len) {
            size_t used = 0;
            rc = ossuary_handshake_recv(server, to_server.data, to_server.len, &used);
            take(&to_server, used);
            if (rc < 0 && !error) error = rc;
        }
        rc = flush_into(server, &to_client);
        if (rc < 0 && !error) error = rc;
        if (to_client.len) {
            size_t used = 0;
            rc = ossuary_handshake_recv(client, to_client.data, to_client.len, &used);
            take(&to_client, used);
            if (rc < 0 && !error) error = rc;
        }
        flush_into(client, &to_server);
        if (to_server.len) {
            size_t used = 0;
            rc = ossuary_handshake_recv(server, to_server.data, to_server.len, &used);
            take(&to_server, used);
            if (rc < 0 && !error) error = rc;
        }
        if (ossuary_handshake_done(client) == 1 && ossuary_handshake_done(server) == 1) return 0;
        if (error) return error;
    }
    return error ? error : OSSUARY_ERR_INTERNAL;
}

static ossuary_connection *client_with(const uint8_t *pinned) {
    ossuary_connection *c = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
    CHECK(c != NULL);
    CHECK(ossuary_set_secret_key(c, client_secret) == OSSUARY_OK);
    if (pinned) CHECK(ossuary_set_server_key(c, pinned) == OSSUARY_OK);
    return c;
}

static ossuary_connection *server_accepting_client(void) {
    ossuary_connection *s = ossuary_connection_new(OSSUARY_ROLE_SERVER);
    CHECK(s != NULL);
    CHECK(ossuary_set_secret_key(s, server_secret) == OSSUARY_OK);
    CHECK(ossuary_add_authorized_key(s, client_public) == OSSUARY_OK);
    return s;
}

static int callback_calls;
static char callback_fingerprint[OSSUARY_FINGERPRINT_BYTES];
static int accept_and_record(const uint8_t key[32], const char *fingerprint, const char *endpoint, int peer_is_server, void *user) {
    (void)key;
    callback_calls++;
    snprintf(callback_fingerprint, sizeof callback_fingerprint, "%s", fingerprint);
    CHECK(peer_is_server == 1);
    CHECK(endpoint != NULL && strcmp(endpoint, "test.example:7000") == 0);
    CHECK(user == (void *)&callback_calls);
    return 1;
}
static int reject_all(const uint8_t key[32], const char *fingerprint, const char *endpoint, int peer_is_server, void *user) {
    (void)key; (void)fingerprint; (void)endpoint; (void)peer_is_server; (void)user;
    return 0;
}

static void test_library_and_sizes(void) {
    CHECK(strcmp(ossuary_version_string(), "1.2.0") == 0);
    CHECK(ossuary_library_version_major() == 1 && ossuary_library_version_minor() == 2);
    CHECK(ossuary_public_key_bytes() == OSSUARY_PUBLIC_KEY_BYTES);
    CHECK(ossuary_secret_key_bytes() == OSSUARY_SECRET_KEY_BYTES);
    CHECK(ossuary_fingerprint_bytes() == OSSUARY_FINGERPRINT_BYTES);
    CHECK(ossuary_public_key_text_bytes() == OSSUARY_PUBLIC_KEY_TEXT_BYTES);
    CHECK(ossuary_max_frame_bytes() == OSSUARY_MAX_FRAME_BYTES);
    CHECK(ossuary_record_overhead_bytes() == OSSUARY_RECORD_OVERHEAD_BYTES);
    CHECK(ossuary_handshake_hash_max_bytes() == OSSUARY_HANDSHAKE_HASH_MAX_BYTES);
}

static void test_keys(void) {
    uint8_t derived[32], parsed[32];
    char fingerprint[OSSUARY_FINGERPRINT_BYTES], text[OSSUARY_PUBLIC_KEY_TEXT_BYTES], small[10];
    CHECK(ossuary_generate_keypair(client_secret, client_public) == OSSUARY_OK);
    CHECK(ossuary_generate_keypair(server_secret, server_public) == OSSUARY_OK);
    CHECK(ossuary_generate_keypair(other_secret, other_public) == OSSUARY_OK);
    CHECK(memcmp(client_public, server_public, 32) != 0);
    CHECK(ossuary_public_key_from_secret(client_secret, derived) == OSSUARY_OK && memcmp(derived, client_public, 32) == 0);
    CHECK(ossuary_fingerprint(client_public, fingerprint, sizeof fingerprint) == OSSUARY_OK && strlen(fingerprint) == 39);
    CHECK(ossuary_fingerprint(client_public, small, sizeof small) == OSSUARY_BUFFER_TOO_SMALL);
    CHECK(strlen(ossuary_last_error()) > 0);
    CHECK(ossuary_fingerprint(NULL, fingerprint, sizeof fingerprint) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_generate_keypair(NULL, derived) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_public_key_to_text(client_public, text, sizeof text) == OSSUARY_OK && strlen(text) == 44);
    CHECK(ossuary_public_key_from_text(text, parsed) == OSSUARY_OK && memcmp(parsed, client_public, 32) == 0);
    CHECK(ossuary_public_key_from_text("not a key", parsed) == OSSUARY_ERR_INVALID_KEY);
    CHECK(ossuary_public_key_from_text(NULL, parsed) == OSSUARY_ERR_NULL_POINTER);

    char dir[] = "/tmp/ossuary-c-test-XXXXXX", path[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/id", dir);
    uint8_t loaded_secret[32], loaded_public[32];
    CHECK(ossuary_keypair_save(path, client_secret, 0) == OSSUARY_OK);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(ossuary_keypair_load(path, loaded_secret, loaded_public) == OSSUARY_OK);
    CHECK(memcmp(loaded_secret, client_secret, 32) == 0 && memcmp(loaded_public, client_public, 32) == 0);
    CHECK(ossuary_keypair_save(path, server_secret, 0) == OSSUARY_ERR_KEY_FILE_INVALID);
    CHECK(chmod(path, 0644) == 0);
    CHECK(ossuary_keypair_load(path, loaded_secret, loaded_public) == OSSUARY_ERR_KEY_FILE_PERMISSIONS);
    CHECK(strstr(ossuary_last_error(), "chmod 600") != NULL);
    CHECK(ossuary_keypair_load("/nonexistent/ossuary/key", loaded_secret, loaded_public) == OSSUARY_ERR_KEY_FILE_INVALID);
    char pub[320];
    snprintf(pub, sizeof pub, "%s.pub", path);
    unlink(pub);
    unlink(path);
    rmdir(dir);
}

static void test_handles_and_arguments(void) {
    CHECK(ossuary_connection_new(7) == NULL);
    CHECK(strstr(ossuary_last_error(), "Role") != NULL);
    CHECK(ossuary_connection_free(NULL) == OSSUARY_OK);
    ossuary_connection *c = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
    CHECK(c != NULL);
    CHECK(ossuary_connection_state(c) == OSSUARY_STATE_HANDSHAKING);
    CHECK(ossuary_connection_free(c) == OSSUARY_OK);
    CHECK(ossuary_connection_free(c) == OSSUARY_ERR_INVALID_HANDLE);          /* double free */
    CHECK(ossuary_set_secret_key(c, client_secret) == OSSUARY_ERR_INVALID_HANDLE); /* stale */
    ossuary_connection *bogus = (ossuary_connection *)(uintptr_t)0x1234567;
    CHECK(ossuary_handshake_done(bogus) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_required_size(bogus) == 0);
    CHECK(ossuary_connection_state(NULL) == OSSUARY_ERR_INVALID_HANDLE);

    c = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
    uint8_t buffer[100];
    size_t n = 99;
    CHECK(ossuary_handshake_send(c, buffer, sizeof buffer, &n) == OSSUARY_ERR_INVALID_OPERATION && n == 0); /* no key yet */
    CHECK(ossuary_set_secret_key(c, NULL) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_set_secret_key(c, client_secret) == OSSUARY_OK);
    CHECK(ossuary_handshake_send(c, buffer, sizeof buffer, &n) == OSSUARY_ERR_INVALID_OPERATION);          /* no trust policy */
    CHECK(strstr(ossuary_last_error(), "verification") != NULL);
    CHECK(ossuary_set_known_hosts(c, "/tmp/x", 9) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_set_suite(c, 99) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_add_authorized_keys(c, NULL, 2) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_add_authorized_keys(c, server_public, 100000) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_add_authorized_keys(c, server_public, 1) == OSSUARY_OK);
    CHECK(ossuary_handshake_send(c, NULL, 10, &n) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_handshake_send(c, buffer, sizeof buffer, NULL) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_handshake_recv(c, buffer, (size_t)-1, &n) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_handshake_send(c, buffer, 10, &n) == OSSUARY_BUFFER_TOO_SMALL && n == 10);   /* partial: 42 bytes queued */
    CHECK(ossuary_handshake_send(c, buffer, sizeof buffer, &n) == OSSUARY_OK && n == 32);
    CHECK(ossuary_set_secret_key(c, client_secret) == OSSUARY_ERR_INVALID_OPERATION);          /* settings are frozen */
    CHECK(ossuary_send_data(c, buffer, 5, &n, buffer, sizeof buffer, &n) == OSSUARY_HANDSHAKE_IN_PROGRESS);
    CHECK(ossuary_remote_public_key(c, buffer) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_close(c) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_end_of_input(c) == OSSUARY_ERR_TRUNCATED);                                    /* ended mid-handshake */
    CHECK(ossuary_handshake_done(c) == OSSUARY_ERR_TRUNCATED);                                   /* and it stays failed */
    CHECK(ossuary_connection_state(c) == OSSUARY_STATE_FAILED);
    CHECK(ossuary_connection_free(c) == OSSUARY_OK);
}

/* A full conversation: data both ways, a message larger than the output buffer, identities, close. */
static void converse(ossuary_connection *client, ossuary_connection *server) {
    static uint8_t message[100000], wire[1 << 20], plain[1 << 20];
    for (size_t i = 0; i < sizeof message; i++) message[i] = (uint8_t)(i * 7 + 3);
    size_t used = 0, n = 0, total_wire = 0;
    /* An output buffer too small for any record: nothing consumed, and the size needed is reported. */
    CHECK(ossuary_send_data(client, message, sizeof message, &used, wire, 10, &n) == OSSUARY_BUFFER_TOO_SMALL && used == 0 && n == 0);
    CHECK(ossuary_required_size(client) == 16384 + OSSUARY_RECORD_OVERHEAD_BYTES);
    /* A small one: a smaller whole record that fits (31 payload bytes in 50). */
    CHECK(ossuary_send_data(client, message, sizeof message, &used, wire, 50, &n) == OSSUARY_BUFFER_TOO_SMALL && used == 31 && n == 50);
    total_wire = n;
    size_t offset = used;
    while (offset < sizeof message) {
        int rc = ossuary_send_data(client, message + offset, sizeof message - offset, &used, wire + total_wire, 20000, &n);
        CHECK(rc == OSSUARY_OK || rc == OSSUARY_BUFFER_TOO_SMALL);
        offset += used;
        total_wire += n;
    }
    size_t got = 0, in_offset = 0;
    for (;;) {
        int rc = ossuary_recv_data(server, wire + in_offset, total_wire - in_offset, &used, plain + got, 7000, &n);
        in_offset += used;
        got += n;
        if (rc == OSSUARY_NEED_MORE_INPUT) break;
        CHECK(rc == OSSUARY_BUFFER_TOO_SMALL);
        if (rc != OSSUARY_BUFFER_TOO_SMALL) break;
    }
    CHECK(got == sizeof message && memcmp(plain, message, got) == 0);

    CHECK(ossuary_send_data(server, (const uint8_t *)"pong!", 5, &used, wire, sizeof wire, &n) == OSSUARY_OK);
    CHECK(ossuary_recv_data(client, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_NEED_MORE_INPUT && got == 5 && memcmp(plain, "pong!", 5) == 0);

    uint8_t key[32], hash_client[64], hash_server[64];
    char fingerprint[OSSUARY_FINGERPRINT_BYTES], expected[OSSUARY_FINGERPRINT_BYTES];
    CHECK(ossuary_remote_public_key(client, key) == OSSUARY_OK && memcmp(key, server_public, 32) == 0);
    CHECK(ossuary_remote_public_key(server, key) == OSSUARY_OK && memcmp(key, client_public, 32) == 0);
    CHECK(ossuary_local_public_key(client, key) == OSSUARY_OK && memcmp(key, client_public, 32) == 0);
    CHECK(ossuary_remote_fingerprint(client, fingerprint, sizeof fingerprint) == OSSUARY_OK);
    CHECK(ossuary_fingerprint(server_public, expected, sizeof expected) == OSSUARY_OK && strcmp(fingerprint, expected) == 0);
    size_t hash_len_client = 0, hash_len_server = 0;
    CHECK(ossuary_handshake_hash(client, hash_client, sizeof hash_client, &hash_len_client) == OSSUARY_OK);
    CHECK(ossuary_handshake_hash(server, hash_server, sizeof hash_server, &hash_len_server) == OSSUARY_OK);
    CHECK(hash_len_client == hash_len_server && hash_len_client >= 32 && memcmp(hash_client, hash_server, hash_len_client) == 0);
    CHECK(ossuary_handshake_hash(client, hash_client, 8, &n) == OSSUARY_BUFFER_TOO_SMALL);

    /* Ping and pong. */
    CHECK(ossuary_ping(client, (const uint8_t *)"hi", 2) == OSSUARY_OK);
    CHECK(ossuary_flush(client, wire, sizeof wire, &n) == OSSUARY_OK && n > 0);
    CHECK(ossuary_recv_data(server, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_NEED_MORE_INPUT && got == 0);
    CHECK(ossuary_flush(server, wire, sizeof wire, &n) == OSSUARY_OK && n > 0);               /* the pong */
    CHECK(ossuary_recv_data(client, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_NEED_MORE_INPUT && got == 0);
    CHECK(ossuary_ping(client, wire, 65) == OSSUARY_ERR_INVALID_ARGUMENT);

    /* Authenticated close, one direction at a time. */
    CHECK(ossuary_close(client) == OSSUARY_OK);
    CHECK(ossuary_flush(client, wire, sizeof wire, &n) == OSSUARY_OK);
    CHECK(ossuary_send_data(client, message, 10, &used, wire + n, sizeof wire - n, &got) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_recv_data(server, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_CLOSED);
    CHECK(ossuary_end_of_input(server) == OSSUARY_OK);
    CHECK(ossuary_send_data(server, (const uint8_t *)"after", 5, &used, wire, sizeof wire, &n) == OSSUARY_OK);
    CHECK(ossuary_recv_data(client, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_NEED_MORE_INPUT && got == 5);
    CHECK(ossuary_close(server) == OSSUARY_OK && ossuary_flush(server, wire, sizeof wire, &n) == OSSUARY_OK);
    CHECK(ossuary_recv_data(client, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_CLOSED);
    CHECK(ossuary_connection_state(client) == OSSUARY_STATE_CLOSED);
}

static void test_conversations(void) {
    /* IK: the server key pinned. */
    ossuary_connection *client = client_with(server_public), *server = server_accepting_client();
    CHECK(handshake(client, server) == 0);
    converse(client, server);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* XX with a verification callback on the client, AES-GCM suite. */
    client = client_with(NULL);
    server = server_accepting_client();
    CHECK(ossuary_set_endpoint(client, "test.example:7000") == OSSUARY_OK);
    CHECK(ossuary_set_verify_callback(client, accept_and_record, &callback_calls) == OSSUARY_OK);
    CHECK(ossuary_set_suite(client, OSSUARY_SUITE_AESGCM_SHA256) == OSSUARY_OK);
    CHECK(handshake(client, server) == 0);
    CHECK(callback_calls == 1);
    char expected[OSSUARY_FINGERPRINT_BYTES];
    CHECK(ossuary_fingerprint(server_public, expected, sizeof expected) == OSSUARY_OK && strcmp(callback_fingerprint, expected) == 0);
    converse(client, server);
    ossuary_connection_free(client);
    ossuary_connection_free(server);
}

static void test_post_quantum(void) {
    /* Hybrid in both patterns: XXhfs, then IKhfs with AES-GCM. */
    for (int pinned = 0; pinned <= 1; pinned++) {
        ossuary_connection *client = client_with(pinned ? server_public : NULL), *server = server_accepting_client();
        if (!pinned) CHECK(ossuary_set_accept_any_peer(client) == OSSUARY_OK);
        else CHECK(ossuary_set_suite(client, OSSUARY_SUITE_AESGCM_SHA256) == OSSUARY_OK);
        CHECK(ossuary_set_post_quantum(client, OSSUARY_PQ_REQUIRED) == OSSUARY_OK);
        CHECK(ossuary_set_post_quantum(server, OSSUARY_PQ_PREFERRED) == OSSUARY_OK);
        CHECK(handshake(client, server) == 0);
        converse(client, server);
        ossuary_connection_free(client);
        ossuary_connection_free(server);
    }
    /* A classical-only server refuses the hybrid offer with a clear alert, which the client reports. */
    ossuary_connection *client = client_with(server_public), *server = server_accepting_client();
    CHECK(ossuary_set_post_quantum(client, OSSUARY_PQ_PREFERRED) == OSSUARY_OK);
    CHECK(handshake(client, server) == OSSUARY_ERR_UNSUPPORTED_PATTERN);
    ossuary_connection_free(client);
    ossuary_connection_free(server);
    /* A server that requires it refuses a classical client. */
    client = client_with(server_public);
    server = server_accepting_client();
    CHECK(ossuary_set_post_quantum(server, OSSUARY_PQ_REQUIRED) == OSSUARY_OK);
    CHECK(handshake(client, server) == OSSUARY_ERR_UNSUPPORTED_PATTERN);
    CHECK(ossuary_set_post_quantum(client, 3) == OSSUARY_ERR_INVALID_OPERATION); /* settings are closed after the handshake began */
    ossuary_connection_free(client);
    ossuary_connection_free(server);
    client = client_with(NULL);
    CHECK(ossuary_set_post_quantum(client, 3) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_set_post_quantum(client, -1) == OSSUARY_ERR_INVALID_ARGUMENT);
    ossuary_connection_free(client);
}

static void test_failures(void) {
    uint8_t wire[70000], plain[70000];
    size_t used, n, got;

    /* The client's callback rejects the server: both sides fail with PEER_REJECTED. */
    ossuary_connection *client = client_with(NULL), *server = server_accepting_client();
    CHECK(ossuary_set_verify_callback(client, reject_all, NULL) == OSSUARY_OK);
    CHECK(handshake(client, server) == OSSUARY_ERR_PEER_REJECTED);
    CHECK(ossuary_handshake_done(client) == OSSUARY_ERR_PEER_REJECTED);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* The server does not authorize this client. */
    client = client_with(server_public);
    server = ossuary_connection_new(OSSUARY_ROLE_SERVER);
    CHECK(ossuary_set_secret_key(server, server_secret) == OSSUARY_OK && ossuary_add_authorized_key(server, other_public) == OSSUARY_OK);
    CHECK(handshake(client, server) == OSSUARY_ERR_PEER_REJECTED);
    CHECK(ossuary_handshake_done(client) == OSSUARY_ERR_PEER_REJECTED);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* A wrong pinned key. */
    client = client_with(other_public);
    server = server_accepting_client();
    CHECK(handshake(client, server) == OSSUARY_ERR_AUTHENTICATION_FAILED);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* Different application contexts. */
    client = client_with(server_public);
    server = server_accepting_client();
    CHECK(ossuary_set_application_context(client, "app-a") == OSSUARY_OK && ossuary_set_application_context(server, "app-b") == OSSUARY_OK);
    CHECK(handshake(client, server) == OSSUARY_ERR_AUTHENTICATION_FAILED);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* A tampered record: nothing released, and the failure sticks. */
    client = client_with(server_public);
    server = server_accepting_client();
    CHECK(handshake(client, server) == 0);
    CHECK(ossuary_send_data(client, (const uint8_t *)"secret", 6, &used, wire, sizeof wire, &n) == OSSUARY_OK);
    wire[n - 1] ^= 1;
    memset(plain, 0, sizeof plain);
    CHECK(ossuary_recv_data(server, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_ERR_AUTHENTICATION_FAILED && got == 0);
    CHECK(plain[0] == 0);
    CHECK(ossuary_recv_data(server, wire, n, &used, plain, sizeof plain, &got) == OSSUARY_ERR_AUTHENTICATION_FAILED);
    CHECK(ossuary_send_data(server, wire, 1, &used, plain, sizeof plain, &got) == OSSUARY_ERR_AUTHENTICATION_FAILED);
    CHECK(ossuary_connection_state(server) == OSSUARY_STATE_FAILED);
    /* Truncation on the client side: its input ends without the server's close. */
    CHECK(ossuary_end_of_input(client) == OSSUARY_ERR_TRUNCATED);
    ossuary_connection_free(client);
    ossuary_connection_free(server);
}

/* Deferred verification: the handshake pauses with OSSUARY_NEEDS_VERIFICATION, consumes nothing and sends nothing
 * until the application gives its verdict; a rejection sends the alert and fails both sides. */
static void test_deferred_verification(void) {
    uint8_t key[32];
    char fingerprint[OSSUARY_FINGERPRINT_BYTES], expected[OSSUARY_FINGERPRINT_BYTES];
    size_t used = 0, n = 0;
    for (int accept = 1; accept >= 0; accept--) {
        ossuary_connection *client = client_with(NULL), *server = server_accepting_client();
        CHECK(ossuary_set_deferred_verification(client) == OSSUARY_OK);
        to_server.len = to_client.len = 0;
        CHECK(flush_into(client, &to_server) == OSSUARY_OK);
        CHECK(ossuary_handshake_recv(server, to_server.data, to_server.len, &used) == OSSUARY_OUTPUT_PENDING);
        take(&to_server, used);
        CHECK(flush_into(server, &to_client) == OSSUARY_OK);
        CHECK(ossuary_complete_verification(client, 1) == OSSUARY_ERR_INVALID_OPERATION); /* nothing pending yet */
        CHECK(ossuary_handshake_recv(client, to_client.data, to_client.len, &used) == OSSUARY_NEEDS_VERIFICATION);
        CHECK(used == to_client.len);
        take(&to_client, used);
        /* Paused: more input is not consumed, nothing is sent, and the peer's key can be read. */
        CHECK(ossuary_handshake_recv(client, (const uint8_t *)"xy", 2, &used) == OSSUARY_NEEDS_VERIFICATION && used == 0);
        CHECK(ossuary_flush(client, to_server.data, sizeof to_server.data, &n) == OSSUARY_OK && n == 0);
        CHECK(ossuary_remote_public_key(client, key) == OSSUARY_OK && memcmp(key, server_public, 32) == 0);
        CHECK(ossuary_fingerprint(server_public, expected, sizeof expected) == OSSUARY_OK);
        CHECK(ossuary_remote_fingerprint(client, fingerprint, sizeof fingerprint) == OSSUARY_OK && strcmp(fingerprint, expected) == 0);
        CHECK(ossuary_complete_verification(client, 2) == OSSUARY_ERR_INVALID_ARGUMENT);
        if (accept) {
            CHECK(ossuary_complete_verification(client, 1) == OSSUARY_OUTPUT_PENDING);
            CHECK(flush_into(client, &to_server) == OSSUARY_OK);
            CHECK(ossuary_handshake_recv(server, to_server.data, to_server.len, &used) == OSSUARY_OK);
            CHECK(ossuary_handshake_done(client) == 1 && ossuary_handshake_done(server) == 1);
        } else {
            CHECK(ossuary_complete_verification(client, 0) == OSSUARY_ERR_PEER_REJECTED);
            CHECK(flush_into(client, &to_server) == OSSUARY_OK && to_server.len == 4); /* the clear alert, nothing else */
            CHECK(ossuary_handshake_recv(server, to_server.data, to_server.len, &used) == OSSUARY_ERR_PEER_REJECTED);
            CHECK(ossuary_handshake_done(client) == OSSUARY_ERR_PEER_REJECTED);
        }
        ossuary_connection_free(client);
        ossuary_connection_free(server);
    }
}

/* Time is passed in: the deadline counts from the start time given, a pause for verification included. */
static void test_timeouts(void) {
    uint64_t deadline = 0;
    size_t used = 0;
    ossuary_connection *client = client_with(NULL), *server = server_accepting_client();
    CHECK(ossuary_set_deferred_verification(client) == OSSUARY_OK);
    CHECK(ossuary_set_handshake_timeout(client, 5000) == OSSUARY_OK);
    CHECK(ossuary_set_start_time(client, 1000000) == OSSUARY_OK);
    CHECK(ossuary_next_timeout(client, &deadline) == 1 && deadline == 1005000);
    CHECK(ossuary_next_timeout(client, NULL) == OSSUARY_ERR_NULL_POINTER);
    to_server.len = to_client.len = 0;
    CHECK(flush_into(client, &to_server) == OSSUARY_OK);
    CHECK(ossuary_handshake_recv(server, to_server.data, to_server.len, &used) == OSSUARY_OUTPUT_PENDING);
    CHECK(flush_into(server, &to_client) == OSSUARY_OK);
    CHECK(ossuary_handshake_recv(client, to_client.data, to_client.len, &used) == OSSUARY_NEEDS_VERIFICATION);
    CHECK(ossuary_handle_timeout(client, 1004999) == OSSUARY_OK);
    CHECK(ossuary_handle_timeout(client, 1005000) == OSSUARY_ERR_HANDSHAKE_TIMEOUT);
    CHECK(ossuary_complete_verification(client, 1) == OSSUARY_ERR_HANDSHAKE_TIMEOUT);
    CHECK(ossuary_connection_state(client) == OSSUARY_STATE_FAILED);
    CHECK(ossuary_next_timeout(client, &deadline) == 0);
    ossuary_connection_free(client);
    ossuary_connection_free(server);

    /* No limit: nothing is timed. */
    client = client_with(NULL);
    CHECK(ossuary_set_accept_any_peer(client) == OSSUARY_OK);
    CHECK(ossuary_set_handshake_timeout(client, 0) == OSSUARY_OK);
    CHECK(ossuary_next_timeout(client, &deadline) == 0);
    CHECK(ossuary_handle_timeout(client, UINT64_C(1) << 40) == OSSUARY_OK);
    ossuary_connection_free(client);
}

static void test_known_hosts(void) {
    char dir[] = "/tmp/ossuary-c-hosts-XXXXXX", path[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/known_hosts", dir);
    for (int round = 0; round < 3; round++) {
        ossuary_connection *client = client_with(NULL);
        CHECK(ossuary_set_endpoint(client, "db.example:7000") == OSSUARY_OK);
        CHECK(ossuary_set_known_hosts(client, path, OSSUARY_TOFU_ACCEPT) == OSSUARY_OK);
        ossuary_connection *server = ossuary_connection_new(OSSUARY_ROLE_SERVER);
        CHECK(ossuary_set_secret_key(server, round < 2 ? server_secret : other_secret) == OSSUARY_OK);
        CHECK(ossuary_set_accept_any_peer(server) == OSSUARY_OK);
        int rc = handshake(client, server);
        if (round < 2) {
            CHECK(rc == 0); /* first contact records the key; the second connection pins it */
        } else {
            /* Pinned from known hosts, so the impostor cannot answer: authentication fails. */
            CHECK(rc == OSSUARY_ERR_AUTHENTICATION_FAILED);
        }
        ossuary_connection_free(client);
        ossuary_connection_free(server);
    }
    /* The same impostor meeting a client that does not pin (reject policy on unknown, known entry differs). */
    FILE *f = fopen(path, "r");
    char line[200] = "";
    CHECK(f != NULL && fgets(line, sizeof line, f) != NULL && strncmp(line, "db.example:7000 ", 16) == 0);
    if (f) fclose(f);
    char lock[320];
    snprintf(lock, sizeof lock, "%s.lock", path);
    unlink(lock);
    unlink(path);
    rmdir(dir);
}

/* A NUL-terminated string whose terminator is the last byte before an unmapped page: any read past the NUL faults.
 * Every function that takes a string must accept it (or refuse it) without reading beyond the terminator. */
static char *string_before_guard_page(const char *text) {
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED || mprotect(pages + page, (size_t)page, PROT_NONE) != 0) return NULL;
    size_t length = strlen(text) + 1;
    char *placed = (char *)pages + page - length;
    memcpy(placed, text, length);
    return placed;
}

static void free_guarded(char *text) {
    long page = sysconf(_SC_PAGESIZE);
    munmap((void *)((uintptr_t)text & ~(uintptr_t)(page - 1)), 2 * (size_t)page);
}

static void test_strings_before_guard_page(void) {
    char key_text[OSSUARY_PUBLIC_KEY_TEXT_BYTES];
    CHECK(ossuary_public_key_to_text(client_public, key_text, sizeof key_text) == OSSUARY_OK);
    uint8_t parsed[32], secret[32], public_key[32];
    const char *samples[] = { "", "x", "db.example:7000", key_text };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char *text = string_before_guard_page(samples[i]);
        CHECK(text != NULL);
        if (!text) continue;
        int rc = ossuary_public_key_from_text(text, parsed);
        CHECK(rc == (i == 3 ? OSSUARY_OK : OSSUARY_ERR_INVALID_KEY));
        rc = ossuary_keypair_load(text, secret, public_key);
        CHECK(rc == (i == 0 ? OSSUARY_ERR_INVALID_ARGUMENT : OSSUARY_ERR_KEY_FILE_INVALID));
        ossuary_connection *c = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
        CHECK(c != NULL);
        CHECK(ossuary_set_endpoint(c, text) == OSSUARY_OK);
        CHECK(ossuary_set_application_context(c, text) == OSSUARY_OK);
        rc = ossuary_set_known_hosts(c, text, OSSUARY_TOFU_ACCEPT);
        CHECK(rc == (i == 0 ? OSSUARY_ERR_INVALID_ARGUMENT : OSSUARY_OK));
        CHECK(ossuary_connection_free(c) == OSSUARY_OK);
        free_guarded(text);
    }
    /* ossuary_keypair_save writes where its path says: give it a real path that ends at the guard page. */
    char dir[] = "/tmp/ossuary-guard-XXXXXX", path[64], pub[80];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/id", dir);
    snprintf(pub, sizeof pub, "%s.pub", path);
    char *guarded = string_before_guard_page(path);
    CHECK(guarded != NULL);
    if (guarded) {
        CHECK(ossuary_keypair_save(guarded, client_secret, 0) == OSSUARY_OK);
        CHECK(ossuary_keypair_load(guarded, secret, public_key) == OSSUARY_OK && memcmp(public_key, client_public, 32) == 0);
        free_guarded(guarded);
    }
    char *empty = string_before_guard_page("");
    CHECK(empty != NULL && ossuary_keypair_save(empty, client_secret, 0) == OSSUARY_ERR_INVALID_ARGUMENT);
    if (empty) free_guarded(empty);
    unlink(pub);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    test_library_and_sizes();
    test_keys();
    test_handles_and_arguments();
    test_conversations();
    test_post_quantum();
    test_failures();
    test_deferred_verification();
    test_timeouts();
    test_known_hosts();
    test_strings_before_guard_page();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
