/* Exercises every ossuary_dgram_* function of ossuary.h, its error paths, and conversations between two endpoints
 * over a network in memory that this program controls (loss, tampering, time). Prints one line per failed check and
 * a closing "N passed, N failed" line; exits non-zero on failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ossuary.h>

static int passed, failed;

#define CHECK(cond) do { if (cond) passed++; else { failed++; fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, ossuary_last_error()); } } while (0)

static uint8_t client_secret[32], client_public[32], server_secret[32], server_public[32], other_secret[32], other_public[32];
static const uint8_t client_address[] = "client:1000", server_address[] = "server:7000";
#define CLIENT_ADDRESS client_address, sizeof client_address - 1
#define SERVER_ADDRESS server_address, sizeof server_address - 1

/* A packet in flight between the two endpoints. */
typedef struct { uint8_t data[1500]; size_t len; } packet_t;
static packet_t captured[64];
static size_t captured_count;

static uint64_t now_ms = 1000;

/* Moves every packet the sender has to the other endpoint (the one its destination names), keeping a copy of each in
 * `captured`. drop: packets are taken out but not delivered. Returns how many moved. */
static int deliver(ossuary_dgram *from, ossuary_dgram *to, const uint8_t *from_address, size_t from_len, int drop) {
    uint8_t packet[1500], address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
    size_t n = 0, alen = 0;
    int moved = 0;
    while (ossuary_dgram_poll_transmit(from, packet, sizeof packet, &n, address, sizeof address, &alen) == 1) {
        if (captured_count < 64) {
            memcpy(captured[captured_count].data, packet, n);
            captured[captured_count++].len = n;
        }
        if (!drop) CHECK(ossuary_dgram_handle_datagram(to, packet, n, from_address, from_len, now_ms) == OSSUARY_OK);
        moved++;
    }
    return moved;
}

/* Packets both ways until neither endpoint has anything to send. */
static void exchange(ossuary_dgram *client, ossuary_dgram *server) {
    for (int round = 0; round < 10; round++) {
        int moved = deliver(client, server, CLIENT_ADDRESS, 0) + deliver(server, client, SERVER_ADDRESS, 0);
        if (moved == 0) return;
    }
}

/* The first event of a kind waiting on an endpoint (others before it are consumed), or kind 0. */
static ossuary_dgram_event wait_event(ossuary_dgram *ep, int kind) {
    ossuary_dgram_event e;
    while (ossuary_dgram_poll_event(ep, &e) == 1) {
        if (e.kind == kind) return e;
    }
    memset(&e, 0, sizeof e);
    return e;
}

static ossuary_dgram *endpoint(const uint8_t *secret, int accept) {
    ossuary_dgram *ep = ossuary_dgram_new(secret, accept, now_ms);
    CHECK(ep != NULL);
    return ep;
}

/* A server that knows the client's key and a client that pins the server's: IK. */
static void connected_pair(ossuary_dgram **client, ossuary_dgram **server, ossuary_dgram_conn *client_conn, ossuary_dgram_conn *server_conn) {
    *server = endpoint(server_secret, 1);
    *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_add_authorized_key(*server, client_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_add_authorized_key(*client, server_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_connect(*client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, client_conn) == OSSUARY_OK);
    exchange(*client, *server);
    ossuary_dgram_event accepted = wait_event(*server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(wait_event(*client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == *client_conn);
    CHECK(accepted.conn != 0);
    *server_conn = accepted.conn;
}

static void test_ik_conversation_and_early_data(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_early_data(server, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_add_authorized_key(server, client_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    CHECK(ossuary_dgram_max_payload_bytes(client) == 1167);
    CHECK(ossuary_dgram_max_datagram_bytes(client) == OSSUARY_DGRAM_MAX_DATAGRAM_BYTES);
    size_t early_max = ossuary_dgram_max_early_data_bytes(client);
    CHECK(early_max > 900 && early_max < 1167);

    ossuary_dgram_conn conn = 0;
    const uint8_t early[] = "hello before the handshake";
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, early, sizeof early, now_ms, &conn) == OSSUARY_OK);
    CHECK(conn != 0);
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"queued", 6, now_ms) == OSSUARY_QUEUED);
    exchange(client, server);

    ossuary_dgram_event accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(accepted.conn != 0);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);

    uint8_t buffer[1200];
    size_t n = 0;
    int flags = -1;
    CHECK(ossuary_dgram_recv(server, accepted.conn, buffer, sizeof buffer, &n, &flags) == 1);
    CHECK(n == sizeof early && memcmp(buffer, early, n) == 0 && flags == OSSUARY_DGRAM_RECV_EARLY_DATA);
    CHECK(ossuary_dgram_recv(server, accepted.conn, buffer, sizeof buffer, &n, &flags) == 1);
    CHECK(n == 6 && memcmp(buffer, "queued", 6) == 0 && flags == 0);
    CHECK(ossuary_dgram_recv(server, accepted.conn, buffer, sizeof buffer, &n, NULL) == 0 && n == 0);

    /* Datagrams both ways, up to the largest. */
    uint8_t big[1167];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    CHECK(ossuary_dgram_send(server, accepted.conn, big, sizeof big, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"ping", 4, now_ms) == OSSUARY_OK);
    exchange(client, server);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_READABLE).conn == conn);
    CHECK(ossuary_dgram_recv(client, conn, buffer, sizeof buffer, &n, &flags) == 1 && n == sizeof big && memcmp(buffer, big, n) == 0);
    CHECK(ossuary_dgram_recv(server, accepted.conn, buffer, sizeof buffer, &n, &flags) == 1 && n == 4 && memcmp(buffer, "ping", 4) == 0);
    uint8_t too_big[1168] = {0};
    CHECK(ossuary_dgram_send(client, conn, too_big, sizeof too_big, now_ms) == OSSUARY_ERR_RECORD_TOO_LARGE);
    CHECK(strstr(ossuary_last_error(), "1167") != NULL);

    /* Who is who. */
    uint8_t key[32];
    char fingerprint[OSSUARY_FINGERPRINT_BYTES], expected[OSSUARY_FINGERPRINT_BYTES];
    CHECK(ossuary_dgram_peer_public_key(server, accepted.conn, key) == OSSUARY_OK && memcmp(key, client_public, 32) == 0);
    CHECK(ossuary_dgram_peer_public_key(client, conn, key) == OSSUARY_OK && memcmp(key, server_public, 32) == 0);
    CHECK(ossuary_dgram_local_public_key(client, key) == OSSUARY_OK && memcmp(key, client_public, 32) == 0);
    CHECK(ossuary_fingerprint(client_public, expected, sizeof expected) == OSSUARY_OK);
    CHECK(ossuary_dgram_peer_fingerprint(server, accepted.conn, fingerprint, sizeof fingerprint) == OSSUARY_OK && strcmp(fingerprint, expected) == 0);
    CHECK(ossuary_dgram_peer_fingerprint(server, accepted.conn, fingerprint, 10) == OSSUARY_BUFFER_TOO_SMALL);
    uint8_t address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
    CHECK(ossuary_dgram_peer_address(server, accepted.conn, address, sizeof address, &n) == OSSUARY_OK);
    CHECK(n == sizeof client_address - 1 && memcmp(address, client_address, n) == 0);
    CHECK(ossuary_dgram_peer_address(server, accepted.conn, address, 3, &n) == OSSUARY_BUFFER_TOO_SMALL && n == 0);

    /* Counters. */
    uint64_t value = 0;
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_ESTABLISHED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_INITIATOR, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_PATTERN, &value) == OSSUARY_OK && value == 2);
    CHECK(ossuary_dgram_conn_statistic(server, accepted.conn, OSSUARY_DGRAM_CONN_EARLY_DATA_USED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_PACKETS_IN, &value) == OSSUARY_OK && value >= 1);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_KEY_AGE_MS, &value) == OSSUARY_OK && value == 0);
    CHECK(ossuary_dgram_conn_statistic(client, conn, 99, &value) == OSSUARY_ERR_INVALID_ARGUMENT && value == 0);
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_HANDSHAKES_COMPLETED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_EARLY_DATA_ACCEPTED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_HANDSHAKES_STARTED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_PACKETS_OUT, &value) == OSSUARY_OK && value >= 3);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_DROPPED, &value) == OSSUARY_OK && value == 0);
    CHECK(ossuary_dgram_statistic(client, 0, &value) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_DROPPED, NULL) == OSSUARY_ERR_NULL_POINTER);

    /* An authenticated close reaches the peer with its code; the connection is then gone on both sides. */
    CHECK(ossuary_dgram_close(client, conn, 42, now_ms) == OSSUARY_OK);
    ossuary_dgram_event closed = wait_event(client, OSSUARY_DGRAM_EVENT_CLOSED);
    CHECK(closed.conn == conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_LOCAL);
    exchange(client, server);
    closed = wait_event(server, OSSUARY_DGRAM_EVENT_CLOSED);
    CHECK(closed.conn == accepted.conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_BY_PEER && closed.peer_close_code == 42);
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"x", 1, now_ms) == OSSUARY_CLOSED);
    CHECK(ossuary_dgram_send(server, accepted.conn, (const uint8_t *)"x", 1, now_ms) == OSSUARY_CLOSED);
    CHECK(ossuary_dgram_close(client, conn, 0, now_ms) == OSSUARY_OK); /* closing twice does nothing */
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static void test_post_quantum(void) {
    for (int ik = 0; ik <= 1; ik++) {
        ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
        CHECK(ossuary_dgram_set_post_quantum(client, OSSUARY_PQ_REQUIRED) == OSSUARY_ERR_INVALID_ARGUMENT); /* needs 1400 first */
        CHECK(ossuary_dgram_set_max_datagram_size(client, 1400) == OSSUARY_OK && ossuary_dgram_set_max_datagram_size(server, 1400) == OSSUARY_OK);
        CHECK(ossuary_dgram_set_post_quantum(client, OSSUARY_PQ_REQUIRED) == OSSUARY_OK);
        CHECK(ossuary_dgram_set_post_quantum(server, OSSUARY_PQ_PREFERRED) == OSSUARY_OK);
        CHECK(ossuary_dgram_set_post_quantum(server, 5) == OSSUARY_ERR_INVALID_ARGUMENT);
        CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK && ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
        ossuary_dgram_conn conn = 0;
        CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, ik ? server_public : NULL, NULL, 0, now_ms, &conn) == OSSUARY_OK);
        captured_count = 0;
        exchange(client, server);
        CHECK(captured_count > 0 && captured[0].len > 1200); /* the hybrid Initiation */
        ossuary_dgram_event accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
        CHECK(accepted.conn != 0);
        CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);
        uint64_t pattern = 0;
        CHECK(ossuary_dgram_conn_statistic(server, accepted.conn, OSSUARY_DGRAM_CONN_PATTERN, &pattern) == OSSUARY_OK && pattern == (ik ? 4u : 3u));
        CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    }
    /* A classical responder drops a hybrid Initiation and counts it. */
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_max_datagram_size(client, 1400) == OSSUARY_OK && ossuary_dgram_set_max_datagram_size(server, 1400) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_post_quantum(client, OSSUARY_PQ_PREFERRED) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK && ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    exchange(client, server);
    uint64_t dropped = 0;
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_UNSUPPORTED_PATTERN, &dropped) == OSSUARY_OK && dropped == 1);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_UNSUPPORTED_PATTERN), "UnsupportedPattern") == 0);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == 0);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static void test_xx_deferred_verification(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_deferred_verification(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_deferred_verification(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, NULL, (const uint8_t *)"x", 1, now_ms, &conn) == OSSUARY_ERR_INVALID_ARGUMENT && conn == 0);
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, NULL, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    exchange(client, server);

    /* The server judges the client first (XX message 1 and 2 carry no client key; it comes with message 3)... */
    ossuary_dgram_event client_asks = wait_event(client, OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED);
    CHECK(client_asks.conn == conn);
    uint8_t key[32];
    CHECK(ossuary_dgram_peer_public_key(client, conn, key) == OSSUARY_OK && memcmp(key, server_public, 32) == 0);
    uint64_t value = 7;
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_ESTABLISHED, &value) == OSSUARY_OK && value == 0);
    CHECK(ossuary_dgram_complete_verification(client, conn, 2, now_ms) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_complete_verification(client, conn, 1, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_complete_verification(client, conn, 1, now_ms) == OSSUARY_ERR_INVALID_OPERATION);
    exchange(client, server);
    ossuary_dgram_event server_asks = wait_event(server, OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED);
    CHECK(server_asks.conn != 0);
    CHECK(ossuary_dgram_peer_public_key(server, server_asks.conn, key) == OSSUARY_OK && memcmp(key, client_public, 32) == 0);
    uint8_t address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
    size_t n = 0;
    CHECK(ossuary_dgram_peer_address(server, server_asks.conn, address, sizeof address, &n) == OSSUARY_OK && n == sizeof client_address - 1);
    CHECK(ossuary_dgram_complete_verification(server, server_asks.conn, 1, now_ms) == OSSUARY_OK);
    CHECK(wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED).conn == server_asks.conn);
    exchange(client, server);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_PATTERN, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);

    /* A client that rejects the server: nothing more is sent and the connection closes as rejected. */
    server = endpoint(server_secret, 1);
    client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_deferred_verification(client) == OSSUARY_OK);
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, NULL, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    exchange(client, server);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED).conn == conn);
    CHECK(ossuary_dgram_complete_verification(client, conn, 0, now_ms) == OSSUARY_OK);
    ossuary_dgram_event closed = wait_event(client, OSSUARY_DGRAM_EVENT_CLOSED);
    CHECK(closed.conn == conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_PEER_REJECTED);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 0);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_HANDSHAKES_REJECTED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static int callback_calls, callback_saw_server, callback_saw_client;
static int judge_by_key(const uint8_t key[32], const char *fingerprint, const char *endpoint, int peer_is_server, void *user) {
    callback_calls++;
    CHECK(fingerprint != NULL && strlen(fingerprint) == OSSUARY_FINGERPRINT_BYTES - 1);
    CHECK(user == (void *)&callback_calls);
    if (peer_is_server) {
        callback_saw_server++;
        CHECK(endpoint != NULL && strcmp(endpoint, "7365727665723A37303030") == 0); /* "server:7000" in hex */
    } else {
        callback_saw_client++;
        CHECK(endpoint != NULL && strcmp(endpoint, "636C69656E743A31303030") == 0); /* "client:1000" */
    }
    return memcmp(key, other_public, 32) != 0; /* everyone but "other" */
}

static void test_callback_verifier(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_verify_callback(server, judge_by_key, &callback_calls) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_verify_callback(client, judge_by_key, &callback_calls) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, NULL, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    exchange(client, server);
    CHECK(callback_saw_server == 1 && callback_saw_client == 1);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);
    ossuary_dgram_event e;
    int verification_events = 0;
    while (ossuary_dgram_poll_event(server, &e) == 1) verification_events += e.kind == OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED;
    CHECK(verification_events == 0); /* the library judged them itself */
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK);

    /* "other" is refused by the server: no connection, counted as rejected. */
    ossuary_dgram *stranger = endpoint(other_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(stranger) == OSSUARY_OK);
    CHECK(ossuary_dgram_connect(stranger, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    exchange(stranger, server);
    CHECK(wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED).conn == 0);
    CHECK(wait_event(stranger, OSSUARY_DGRAM_EVENT_CONNECTED).conn == 0);
    uint64_t value = 0;
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_HANDSHAKES_REJECTED, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_free(stranger) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static void test_tampering_and_drops(void) {
    ossuary_dgram *client, *server;
    ossuary_dgram_conn conn, server_conn;
    connected_pair(&client, &server, &conn, &server_conn);
    captured_count = 0;
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"genuine", 7, now_ms) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 1) == 1 && captured_count == 1);

    /* Every single-bit change of the packet is dropped, counted, and delivers nothing. */
    uint64_t before = 0, after = 0;
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_AUTHENTICATION_FAILED, &before) == OSSUARY_OK && before == 0);
    int delivered = 0, forgeries = 0;
    for (size_t bit = 16 * 8; bit < captured[0].len * 8; bit += 13) {
        packet_t forged = captured[0];
        forged.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        forgeries++;
        CHECK(ossuary_dgram_handle_datagram(server, forged.data, forged.len, CLIENT_ADDRESS, now_ms) == OSSUARY_OK);
        uint8_t buffer[1200];
        size_t n;
        delivered += ossuary_dgram_recv(server, server_conn, buffer, sizeof buffer, &n, NULL);
    }
    CHECK(delivered == 0);
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_AUTHENTICATION_FAILED, &after) == OSSUARY_OK && after == (uint64_t)forgeries && forgeries > 10);
    /* The genuine packet still opens once, and a replay of it is a duplicate. */
    CHECK(ossuary_dgram_handle_datagram(server, captured[0].data, captured[0].len, CLIENT_ADDRESS, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_handle_datagram(server, captured[0].data, captured[0].len, CLIENT_ADDRESS, now_ms) == OSSUARY_OK);
    uint8_t buffer[1200];
    size_t n = 0;
    CHECK(ossuary_dgram_recv(server, server_conn, buffer, 3, &n, NULL) == OSSUARY_BUFFER_TOO_SMALL && n == 0);
    CHECK(ossuary_dgram_recv(server, server_conn, buffer, sizeof buffer, &n, NULL) == 1 && n == 7 && memcmp(buffer, "genuine", 7) == 0);
    CHECK(ossuary_dgram_recv(server, server_conn, buffer, sizeof buffer, &n, NULL) == 0);
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_DUPLICATE, &after) == OSSUARY_OK && after == 1);
    /* Garbage and empty packets are counted too, never reported as errors. */
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_DROPPED, &before) == OSSUARY_OK);
    CHECK(ossuary_dgram_handle_datagram(server, (const uint8_t *)"\x05garbage", 8, CLIENT_ADDRESS, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_handle_datagram(server, NULL, 0, CLIENT_ADDRESS, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_statistic(server, OSSUARY_DGRAM_STAT_DROPPED, &after) == OSSUARY_OK && after == before + 2);
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_MALFORMED, &after) == OSSUARY_OK && after >= 1);
    CHECK(ossuary_dgram_dropped(server, 0, &after) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_dropped(server, OSSUARY_DGRAM_DROP_REASONS + 1, &after) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_MALFORMED), "Malformed") == 0);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_UNEXPECTED), "Unexpected") == 0);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(0), "") == 0 && strcmp(ossuary_dgram_drop_reason_name(1000), "") == 0);

    /* A transmit buffer too small keeps the packet queued. */
    CHECK(ossuary_dgram_send(server, server_conn, (const uint8_t *)"reply", 5, now_ms) == OSSUARY_OK);
    uint8_t address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
    size_t alen = 0;
    CHECK(ossuary_dgram_poll_transmit(server, buffer, 10, &n, address, sizeof address, &alen) == OSSUARY_BUFFER_TOO_SMALL && n == 0);
    CHECK(ossuary_dgram_poll_transmit(server, buffer, sizeof buffer, &n, address, 4, &alen) == OSSUARY_BUFFER_TOO_SMALL);
    CHECK(ossuary_dgram_poll_transmit(server, buffer, sizeof buffer, &n, address, sizeof address, &alen) == 1);
    CHECK(alen == sizeof client_address - 1 && memcmp(address, client_address, alen) == 0 && n == 16 + 1 + 5 + 16);
    CHECK(ossuary_dgram_poll_transmit(server, buffer, sizeof buffer, &n, address, sizeof address, &alen) == 0 && n == 0);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static void test_timers(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    uint64_t deadline = 1;
    CHECK(ossuary_dgram_next_timeout(client, &deadline) == 0 && deadline == 0);
    ossuary_dgram_conn conn;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &conn) == OSSUARY_OK);

    /* The Initiation is lost: it is sent again, byte for byte, at the deadline (1 s, with jitter). */
    captured_count = 0;
    CHECK(deliver(client, server, CLIENT_ADDRESS, 1) == 1);
    CHECK(ossuary_dgram_next_timeout(client, &deadline) == 1 && deadline > now_ms && deadline <= now_ms + 1500);
    CHECK(ossuary_dgram_handle_timeout(client, deadline - 1) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 1) == 0);
    now_ms = deadline;
    CHECK(ossuary_dgram_handle_timeout(client, now_ms) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 1) == 1 && captured_count == 2);
    CHECK(captured[0].len == captured[1].len && memcmp(captured[0].data, captured[1].data, captured[0].len) == 0);
    uint64_t value = 0;
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_HANDSHAKE_RETRANSMISSIONS, &value) == OSSUARY_OK && value == 1);

    /* Nothing ever answers: the attempt ends after 90 s with a Closed event. */
    for (int i = 0; i < 200 && ossuary_dgram_next_timeout(client, &deadline) == 1; i++) {
        now_ms = deadline;
        CHECK(ossuary_dgram_handle_timeout(client, now_ms) == OSSUARY_OK);
        deliver(client, server, CLIENT_ADDRESS, 1);
    }
    ossuary_dgram_event closed = wait_event(client, OSSUARY_DGRAM_EVENT_CLOSED);
    CHECK(closed.conn == conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT);
    CHECK(now_ms >= 1000 + 90000 && now_ms < 1000 + 100000);
    CHECK(ossuary_dgram_statistic(client, OSSUARY_DGRAM_STAT_HANDSHAKES_TIMED_OUT, &value) == OSSUARY_OK && value == 1);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
}

static void test_handles_settings_and_arguments(void) {
    /* Made-up, freed and wrong-kind handles. */
    ossuary_dgram *made_up = (ossuary_dgram *)(uintptr_t)0x123456789;
    uint64_t value;
    CHECK(ossuary_dgram_statistic(made_up, OSSUARY_DGRAM_STAT_CONNECTIONS, &value) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_free(NULL) == OSSUARY_OK);
    ossuary_dgram *ep = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_free(ep) == OSSUARY_OK);
    CHECK(ossuary_dgram_free(ep) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_handle_timeout(ep, now_ms) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_max_payload_bytes(ep) == 0);
    ossuary_connection *stream = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
    CHECK(ossuary_dgram_handle_timeout((ossuary_dgram *)stream, now_ms) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(strstr(ossuary_last_error(), "datagram endpoint") != NULL);
    ossuary_dgram *other = endpoint(client_secret, 0);
    CHECK(ossuary_connection_state((ossuary_connection *)other) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_connection_free(stream) == OSSUARY_OK);

    /* Creation. */
    CHECK(ossuary_dgram_new(NULL, 0, now_ms) == NULL && strstr(ossuary_last_error(), "secret_key") != NULL);
    CHECK(ossuary_dgram_new(client_secret, 2, now_ms) == NULL);
    CHECK(ossuary_dgram_new(client_secret, 0, UINT64_MAX) == NULL);

    /* Settings: an out-of-range value changes nothing; after first use none changes. */
    CHECK(ossuary_dgram_set_max_datagram_size(other, 100) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_max_datagram_size(other, 70000) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_max_datagram_bytes(other) == 1200);
    CHECK(ossuary_dgram_set_max_datagram_size(other, 1400) == OSSUARY_OK);
    CHECK(ossuary_dgram_max_datagram_bytes(other) == 1400);
    CHECK(ossuary_dgram_set_suite(other, 3) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_suite(other, OSSUARY_SUITE_AESGCM_SHA256) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_validation(other, 3) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_address_validation(other, OSSUARY_DGRAM_VALIDATE_ALWAYS) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_early_data(other, 5) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_allow_roaming(other, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections(other, 0) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_max_connections(other, 10) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_persistent_keepalive(other, 25000) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_wall_clock(other, 1790000000000ULL) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_wall_clock(other, UINT64_MAX) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_service_label(other, "") == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_service_label(other, NULL) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_set_service_label(other, "vpn") == OSSUARY_OK);
    CHECK(ossuary_dgram_add_authorized_key(other, NULL) == OSSUARY_ERR_NULL_POINTER);

    /* No trust chosen: the first use says so, and nothing was built. */
    CHECK(ossuary_dgram_handle_timeout(other, now_ms) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(strstr(ossuary_last_error(), "verification") != NULL);
    CHECK(ossuary_dgram_add_authorized_key(other, server_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_max_payload_bytes(other) == 1400 - 33);
    CHECK(ossuary_dgram_set_service_label(other, "late") == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_set_accept_any_peer(other) == OSSUARY_ERR_INVALID_OPERATION);

    /* Arguments of operations. */
    ossuary_dgram_conn conn = 99;
    CHECK(ossuary_dgram_connect(other, NULL, 0, NULL, NULL, 0, now_ms, &conn) == OSSUARY_ERR_INVALID_ARGUMENT && conn == 0);
    uint8_t long_address[65] = {0};
    CHECK(ossuary_dgram_connect(other, long_address, sizeof long_address, NULL, NULL, 0, now_ms, &conn) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_connect(other, SERVER_ADDRESS, NULL, NULL, 0, now_ms, NULL) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_connect(other, NULL, 4, NULL, NULL, 0, now_ms, &conn) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_handle_datagram(other, (const uint8_t *)"x", 1, NULL, 0, now_ms) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_handle_datagram(other, NULL, 5, CLIENT_ADDRESS, now_ms) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_poll_event(other, NULL) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_next_timeout(other, NULL) == OSSUARY_ERR_NULL_POINTER);
    uint8_t buffer[64];
    size_t n;
    CHECK(ossuary_dgram_poll_transmit(other, buffer, sizeof buffer, NULL, buffer, sizeof buffer, &n) == OSSUARY_ERR_NULL_POINTER);
    CHECK(ossuary_dgram_recv(other, 0, buffer, sizeof buffer, &n, NULL) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_recv(other, 12345, buffer, sizeof buffer, &n, NULL) == 0); /* unknown: nothing to take */
    CHECK(ossuary_dgram_send(other, 12345, buffer, 1, now_ms) == OSSUARY_CLOSED);
    CHECK(ossuary_dgram_conn_statistic(other, 12345, OSSUARY_DGRAM_CONN_BYTES_IN, &value) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_peer_public_key(other, 12345, buffer) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_complete_verification(other, 12345, 1, now_ms) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_close(other, 12345, 0, now_ms) == OSSUARY_OK);

    /* The connection limit. */
    int made = 0, refused = 0;
    for (int i = 0; i < 11; i++) {
        uint8_t address[2] = { 'a', (uint8_t)i };
        int rc = ossuary_dgram_connect(other, address, sizeof address, server_public, NULL, 0, now_ms, &conn);
        made += rc == OSSUARY_OK;
        refused += rc == OSSUARY_ERR_INVALID_OPERATION;
    }
    CHECK(made == 10 && refused == 1);
    CHECK(ossuary_dgram_free(other) == OSSUARY_OK);
}

/* A peer of a server at an address of its own (several peers can share one server). */
typedef struct { ossuary_dgram *ep; const void *address; size_t len; } peer_t;

/* Packets between a server and its peers, each at its own address, until nothing moves: each peer's packets reach the
 * server from the peer's address, and the server's packets reach the peer whose address they name. */
static void exchange_peers(ossuary_dgram *server, peer_t *peers, int count) {
    for (int round = 0; round < 10; round++) {
        int moved = 0;
        for (int i = 0; i < count; i++) moved += deliver(peers[i].ep, server, peers[i].address, peers[i].len, 0);
        uint8_t packet[1500], address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
        size_t n = 0, alen = 0;
        while (ossuary_dgram_poll_transmit(server, packet, sizeof packet, &n, address, sizeof address, &alen) == 1) {
            for (int i = 0; i < count; i++) {
                if (alen == peers[i].len && memcmp(address, peers[i].address, alen) == 0) {
                    CHECK(ossuary_dgram_handle_datagram(peers[i].ep, packet, n, SERVER_ADDRESS, now_ms) == OSSUARY_OK);
                }
            }
            moved++;
        }
        if (moved == 0) return;
    }
}

/* How many events of a kind wait on an endpoint (all its events are consumed); *last is the last of them. */
static int count_events(ossuary_dgram *ep, int kind, ossuary_dgram_event *last) {
    ossuary_dgram_event e;
    int count = 0;
    while (ossuary_dgram_poll_event(ep, &e) == 1) {
        if (e.kind == kind) {
            count++;
            if (last) *last = e;
        }
    }
    return count;
}

static uint64_t statistic(ossuary_dgram *ep, int which) {
    uint64_t value = UINT64_MAX;
    CHECK(ossuary_dgram_statistic(ep, which, &value) == OSSUARY_OK);
    return value;
}

static uint64_t dropped(ossuary_dgram *ep, int reason) {
    uint64_t value = UINT64_MAX;
    CHECK(ossuary_dgram_dropped(ep, reason, &value) == OSSUARY_OK);
    return value;
}

static struct sockaddr_in ipv4(const char *ip, uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
    return a;
}

static struct sockaddr_in6 ipv6(const char *ip, uint16_t port) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    CHECK(inet_pton(AF_INET6, ip, &a.sin6_addr) == 1);
    return a;
}

static void test_new_settings_names_and_counters(void) {
    ossuary_dgram *ep = endpoint(server_secret, 1);
    /* Per source and per peer: 0 is the default (a quarter of the connection limit); every other count is a limit
     * (no uint32_t is out of range). */
    CHECK(ossuary_dgram_set_max_connections_per_source(ep, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_source(ep, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_source(ep, UINT32_MAX) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_peer(ep, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_peer(ep, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_peer(ep, UINT32_MAX) == OSSUARY_OK);
    /* The unused timeout: 0 is none, else 1 ms to a day. */
    CHECK(ossuary_dgram_set_unused_timeout(ep, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_unused_timeout(ep, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_unused_timeout(ep, 86400000) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_unused_timeout(ep, 86400001) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ossuary_last_error(), "24 hours") != NULL);
    CHECK(ossuary_dgram_set_unused_timeout(ep, UINT32_MAX) == OSSUARY_ERR_INVALID_ARGUMENT);
    /* The address format: OSSUARY_DGRAM_ADDRESS_*, and an IPv6 prefix of 1 to 128 bits (0: 64). */
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 128) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_OPAQUE, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_format(ep, 2, 0) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ossuary_last_error(), "address format") != NULL);
    CHECK(ossuary_dgram_set_address_format(ep, -1, 0) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 129) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, UINT32_MAX) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_OPAQUE, 129) == OSSUARY_ERR_INVALID_ARGUMENT);
    /* (That a refused value changed nothing is seen in what the limits then do: test_source_limit, test_unused_connections.) */

    /* Made-up handles, and settings after first use. */
    ossuary_dgram *made_up = (ossuary_dgram *)(uintptr_t)0x123456789;
    CHECK(ossuary_dgram_set_max_connections_per_source(made_up, 1) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_set_max_connections_per_peer(made_up, 1) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_set_unused_timeout(made_up, 1000) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_set_address_format(made_up, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0) == OSSUARY_ERR_INVALID_HANDLE);
    CHECK(ossuary_dgram_set_accept_any_peer(ep) == OSSUARY_OK);
    CHECK(ossuary_dgram_handle_timeout(ep, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_source(ep, 1) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_set_max_connections_per_peer(ep, 1) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_set_unused_timeout(ep, 1000) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_set_address_format(ep, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0) == OSSUARY_ERR_INVALID_OPERATION);

    /* The new counters read 0 on a new endpoint; the one after them is unknown. */
    CHECK(statistic(ep, OSSUARY_DGRAM_STAT_CONNECTIONS_EVICTED) == 0);
    CHECK(statistic(ep, OSSUARY_DGRAM_STAT_CONNECTIONS_UNUSED) == 0);
    CHECK(statistic(ep, OSSUARY_DGRAM_STAT_HANDSHAKES_UNCONFIRMED) == 0);
    uint64_t value = 0;
    CHECK(ossuary_dgram_statistic(ep, OSSUARY_DGRAM_STAT_HANDSHAKES_UNCONFIRMED + 1, &value) == OSSUARY_ERR_INVALID_ARGUMENT);

    /* The new drop reasons, the last of this version. */
    CHECK(OSSUARY_DGRAM_DROP_SOURCE_LIMIT == 19 && OSSUARY_DGRAM_DROP_PEER_LIMIT == 20 && OSSUARY_DGRAM_DROP_REASONS == 20);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_SOURCE_LIMIT), "SourceLimit") == 0);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_PEER_LIMIT), "PeerLimit") == 0);
    CHECK(strcmp(ossuary_dgram_drop_reason_name(OSSUARY_DGRAM_DROP_REASONS + 1), "") == 0);
    CHECK(dropped(ep, OSSUARY_DGRAM_DROP_SOURCE_LIMIT) == 0 && dropped(ep, OSSUARY_DGRAM_DROP_PEER_LIMIT) == 0);
    for (int reason = 1; reason <= OSSUARY_DGRAM_DROP_REASONS; reason++) CHECK(ossuary_dgram_drop_reason_name(reason)[0] != '\0');
    CHECK(ossuary_dgram_free(ep) == OSSUARY_OK);
}

static void test_ik_key_confirmation(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_early_data(server, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_add_authorized_key(server, client_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_add_authorized_key(server, other_public) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    const uint8_t early[] = "early";
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, early, sizeof early, now_ms, &conn) == OSSUARY_OK);
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"held", 4, now_ms) == OSSUARY_QUEUED);

    /* The Initiation: the server answers, but no connection exists yet (no event at all: the library judged the key). */
    ossuary_dgram_event e;
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 1);
    CHECK(ossuary_dgram_poll_event(server, &e) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 0 && statistic(server, OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES) == 1);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_EARLY_DATA_ACCEPTED) == 0);
    /* The Response: the initiator is connected, and its held datagram goes out under the new keys. */
    CHECK(deliver(server, client, SERVER_ADDRESS, 0) == 1);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);
    CHECK(ossuary_dgram_poll_event(server, &e) == 0); /* still nothing: no packet under the keys has arrived */
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 0);
    /* The first packet under the keys makes the connection: Accepted, then the early data (flagged), then the packet. */
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 1);
    CHECK(ossuary_dgram_poll_event(server, &e) == 1 && e.kind == OSSUARY_DGRAM_EVENT_ACCEPTED && e.conn != 0);
    ossuary_dgram_conn accepted = e.conn;
    uint8_t buffer[1200];
    size_t n = 0;
    int flags = -1;
    CHECK(ossuary_dgram_recv(server, accepted, buffer, sizeof buffer, &n, &flags) == 1);
    CHECK(n == sizeof early && memcmp(buffer, early, n) == 0 && flags == OSSUARY_DGRAM_RECV_EARLY_DATA);
    CHECK(ossuary_dgram_recv(server, accepted, buffer, sizeof buffer, &n, &flags) == 1);
    CHECK(n == 4 && memcmp(buffer, "held", 4) == 0 && flags == 0);
    CHECK(ossuary_dgram_recv(server, accepted, buffer, sizeof buffer, &n, &flags) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 1 && statistic(server, OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_EARLY_DATA_ACCEPTED) == 1);
    uint64_t value = 0;
    CHECK(ossuary_dgram_conn_statistic(server, accepted, OSSUARY_DGRAM_CONN_EARLY_DATA_USED, &value) == OSSUARY_OK && value == 1);
    CHECK(deliver(server, client, SERVER_ADDRESS, 0) == 1); /* a keepalive under the keys: the client's confirmation arrived */
    CHECK(count_events(server, OSSUARY_DGRAM_EVENT_READABLE, NULL) == 1);

    /* With nothing to send the initiator confirms with a keepalive; lost, it is repeated after about a second. */
    ossuary_dgram *quiet = endpoint(other_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(quiet) == OSSUARY_OK);
    const uint8_t quiet_address[] = "quiet:1";
    ossuary_dgram_conn quiet_conn = 0;
    CHECK(ossuary_dgram_connect(quiet, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &quiet_conn) == OSSUARY_OK);
    CHECK(deliver(quiet, server, quiet_address, sizeof quiet_address - 1, 0) == 1);
    CHECK(deliver(server, quiet, SERVER_ADDRESS, 0) == 1);
    CHECK(wait_event(quiet, OSSUARY_DGRAM_EVENT_CONNECTED).conn == quiet_conn);
    CHECK(deliver(quiet, server, quiet_address, sizeof quiet_address - 1, 1) == 1); /* the keepalive, lost */
    CHECK(ossuary_dgram_poll_event(server, &e) == 0 && statistic(server, OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES) == 1);
    uint64_t deadline = 0, start = now_ms;
    CHECK(ossuary_dgram_next_timeout(quiet, &deadline) == 1 && deadline > now_ms && deadline <= now_ms + 1500);
    now_ms = deadline;
    CHECK(ossuary_dgram_handle_timeout(quiet, now_ms) == OSSUARY_OK);
    CHECK(deliver(quiet, server, quiet_address, sizeof quiet_address - 1, 0) == 1); /* the repeated keepalive */
    ossuary_dgram_event quiet_accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(quiet_accepted.conn != 0 && quiet_accepted.conn != accepted);
    CHECK(ossuary_dgram_recv(server, quiet_accepted.conn, buffer, sizeof buffer, &n, &flags) == 0); /* a keepalive delivers nothing */
    /* The server answers under the keys; then the initiator stops repeating. */
    CHECK(deliver(server, quiet, SERVER_ADDRESS, 0) == 1);
    for (int i = 0; i < 10 && ossuary_dgram_next_timeout(quiet, &deadline) == 1 && deadline < start + 15000; i++) {
        now_ms = deadline;
        CHECK(ossuary_dgram_handle_timeout(quiet, now_ms) == OSSUARY_OK);
    }
    CHECK(deliver(quiet, server, quiet_address, sizeof quiet_address - 1, 1) == 0);
    CHECK(ossuary_dgram_free(quiet) == OSSUARY_OK && ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
}

static void test_ik_unconfirmed_handshake_times_out(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_deferred_verification(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_early_data(server, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    uint64_t start = now_ms;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, (const uint8_t *)"early", 5, now_ms, &conn) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 1);
    ossuary_dgram_event asks = wait_event(server, OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED);
    CHECK(asks.conn != 0);
    CHECK(ossuary_dgram_complete_verification(server, asks.conn, 1, now_ms) == OSSUARY_OK);
    CHECK(deliver(server, client, SERVER_ADDRESS, 1) == 1); /* the Response is lost: nothing under the keys ever comes */
    ossuary_dgram_event e;
    CHECK(ossuary_dgram_poll_event(server, &e) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES) == 1 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 0);
    uint8_t buffer[64];
    size_t n = 0;
    CHECK(ossuary_dgram_recv(server, asks.conn, buffer, sizeof buffer, &n, NULL) == 0); /* the early data waits with the keys */

    /* 15 s after the Initiation the handshake ends, reported on the handle of the verification request. */
    uint64_t deadline = 0;
    ossuary_dgram_event closed = {0};
    int accepted = 0;
    for (int i = 0; i < 20 && closed.conn == 0 && ossuary_dgram_next_timeout(server, &deadline) == 1; i++) {
        now_ms = deadline;
        CHECK(ossuary_dgram_handle_timeout(server, now_ms) == OSSUARY_OK);
        while (ossuary_dgram_poll_event(server, &e) == 1) {
            accepted += e.kind == OSSUARY_DGRAM_EVENT_ACCEPTED;
            if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED) closed = e;
        }
    }
    CHECK(closed.conn == asks.conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT);
    CHECK(now_ms >= start + 15000 && now_ms < start + 16000);
    CHECK(accepted == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_HANDSHAKES_UNCONFIRMED) == 1);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES) == 0 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_EARLY_DATA_ACCEPTED) == 0);
    CHECK(ossuary_dgram_complete_verification(server, asks.conn, 1, now_ms) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
}

/* The same, with the library judging the key itself: the caller never saw the handshake's number, so its end is
 * not reported either (no CLOSED for a connection that was never ACCEPTED). */
static void test_an_unconfirmed_handshake_judged_by_the_library_stays_silent(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    uint64_t start = now_ms;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 1);
    CHECK(deliver(server, client, SERVER_ADDRESS, 1) == 1); /* the Response is lost */
    uint64_t deadline = 0;
    int events = 0;
    ossuary_dgram_event e;
    while (ossuary_dgram_next_timeout(server, &deadline) == 1 && deadline < start + 20000) {
        now_ms = deadline;
        CHECK(ossuary_dgram_handle_timeout(server, now_ms) == OSSUARY_OK);
        while (ossuary_dgram_poll_event(server, &e) == 1) events++;
    }
    CHECK(events == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_HANDSHAKES_UNCONFIRMED) == 1);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
}

static void test_xx_connected_only_after_the_verdict(void) {
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_deferred_verification(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn conn = 0;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, NULL, NULL, 0, now_ms, &conn) == OSSUARY_OK);
    captured_count = 0;
    exchange(client, server); /* Initiation, Response, Finish */
    CHECK(captured_count == 3);
    ossuary_dgram_event asks = wait_event(server, OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED);
    CHECK(asks.conn != 0);

    /* The client sent its Finish but is not connected: the server has not let it in. Its datagrams wait. */
    CHECK(count_events(client, OSSUARY_DGRAM_EVENT_CONNECTED, NULL) == 0);
    uint64_t value = 7;
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_ESTABLISHED, &value) == OSSUARY_OK && value == 0);
    const char *held[] = { "one", "two", "three" };
    for (int i = 0; i < 3; i++) CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)held[i], strlen(held[i]), now_ms) == OSSUARY_QUEUED);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 0);
    /* While nothing comes back under its keys, the client repeats its Finish (after about a second); the server, still
     * deciding, drops it as a duplicate. */
    uint64_t deadline = 0;
    CHECK(ossuary_dgram_next_timeout(client, &deadline) == 1 && deadline > now_ms && deadline <= now_ms + 1500);
    now_ms = deadline;
    CHECK(ossuary_dgram_handle_timeout(client, now_ms) == OSSUARY_OK);
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 1 && captured_count == 4);
    CHECK(captured[3].len == captured[2].len && memcmp(captured[3].data, captured[2].data, captured[2].len) == 0);
    CHECK(dropped(server, OSSUARY_DGRAM_DROP_DUPLICATE) == 1);
    CHECK(count_events(client, OSSUARY_DGRAM_EVENT_CONNECTED, NULL) == 0);

    /* The verdict makes the server's connection (the Finish confirmed the keys) and sends a keepalive under them. */
    CHECK(ossuary_dgram_complete_verification(server, asks.conn, 1, now_ms) == OSSUARY_OK);
    CHECK(wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED).conn == asks.conn);
    CHECK(count_events(client, OSSUARY_DGRAM_EVENT_CONNECTED, NULL) == 0); /* not before the keepalive arrives */
    CHECK(deliver(server, client, SERVER_ADDRESS, 0) == 1);
    CHECK(wait_event(client, OSSUARY_DGRAM_EVENT_CONNECTED).conn == conn);
    CHECK(ossuary_dgram_conn_statistic(client, conn, OSSUARY_DGRAM_CONN_ESTABLISHED, &value) == OSSUARY_OK && value == 1);
    /* The held datagrams go out now, all of them, in order. */
    CHECK(deliver(client, server, CLIENT_ADDRESS, 0) == 3);
    CHECK(wait_event(server, OSSUARY_DGRAM_EVENT_READABLE).conn == asks.conn);
    uint8_t buffer[64];
    size_t n = 0;
    int flags = -1;
    for (int i = 0; i < 3; i++) {
        CHECK(ossuary_dgram_recv(server, asks.conn, buffer, sizeof buffer, &n, &flags) == 1);
        CHECK(n == strlen(held[i]) && memcmp(buffer, held[i], n) == 0 && flags == 0);
    }
    CHECK(ossuary_dgram_recv(server, asks.conn, buffer, sizeof buffer, &n, &flags) == 0);
    CHECK(dropped(server, OSSUARY_DGRAM_DROP_UNKNOWN_SESSION) == 0 && statistic(client, OSSUARY_DGRAM_STAT_QUEUED_DATAGRAMS_DROPPED) == 0);
    CHECK(ossuary_dgram_send(client, conn, (const uint8_t *)"four", 4, now_ms) == OSSUARY_OK);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
}

/* A server (accept-any, IK, at most one connection per source, address format as given) and two clients at addresses
 * a and b: the first connects and sends a datagram, then the second connects. Returns 1 when the second connection was
 * made, 0 when it was dropped as SOURCE_LIMIT (and nothing else changed), -1 otherwise. set_format 0 leaves the
 * format alone; a refused format (expect_rc != OSSUARY_OK) must leave it alone too. */
static int second_source_admitted(int set_format, int format, uint32_t bits, int expect_rc, const void *a, size_t a_len, const void *b, size_t b_len) {
    ossuary_dgram *server = endpoint(server_secret, 1), *first = endpoint(client_secret, 0), *second = endpoint(other_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_source(server, 1) == OSSUARY_OK);
    if (set_format) CHECK(ossuary_dgram_set_address_format(server, format, bits) == expect_rc);
    CHECK(ossuary_dgram_set_accept_any_peer(first) == OSSUARY_OK && ossuary_dgram_set_accept_any_peer(second) == OSSUARY_OK);
    peer_t peers[] = { { first, a, a_len }, { second, b, b_len } };
    ossuary_dgram_conn first_conn = 0, second_conn = 0;
    CHECK(ossuary_dgram_connect(first, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &first_conn) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    ossuary_dgram_event accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(accepted.conn != 0);
    CHECK(ossuary_dgram_send(first, first_conn, (const uint8_t *)"used", 4, now_ms) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    uint8_t buffer[64];
    size_t n = 0;
    CHECK(ossuary_dgram_recv(server, accepted.conn, buffer, sizeof buffer, &n, NULL) == 1 && n == 4);
    /* In use, the limits cannot change any more. */
    CHECK(ossuary_dgram_set_max_connections_per_source(server, 0) == OSSUARY_ERR_INVALID_OPERATION);
    CHECK(ossuary_dgram_set_address_format(server, OSSUARY_DGRAM_ADDRESS_OPAQUE, 0) == OSSUARY_ERR_INVALID_OPERATION);

    CHECK(ossuary_dgram_connect(second, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &second_conn) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    int made = count_events(server, OSSUARY_DGRAM_EVENT_ACCEPTED, NULL);
    int second_connected = count_events(second, OSSUARY_DGRAM_EVENT_CONNECTED, NULL);
    uint64_t source_drops = dropped(server, OSSUARY_DGRAM_DROP_SOURCE_LIMIT);
    int result = -1;
    if (made == 1 && second_connected == 1 && source_drops == 0 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 2) result = 1;
    if (made == 0 && second_connected == 0 && source_drops == 1 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 1
        && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS_EVICTED) == 0 && count_events(first, OSSUARY_DGRAM_EVENT_CLOSED, NULL) == 0) result = 0;
    CHECK(ossuary_dgram_free(first) == OSSUARY_OK && ossuary_dgram_free(second) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    return result;
}

static void test_source_limit(void) {
    struct sockaddr_in a = ipv4("127.0.0.1", 4001), b = ipv4("127.0.0.1", 4002), elsewhere = ipv4("127.0.0.2", 4002);
    /* Socket addresses: one IP is one source, whatever its ports. */
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0, OSSUARY_OK, &a, sizeof a, &b, sizeof b) == 0);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0, OSSUARY_OK, &a, sizeof a, &elsewhere, sizeof elsewhere) == 1);
    /* Opaque (the default, and what a refused format leaves in place): every address is its own source. */
    CHECK(second_source_admitted(0, 0, 0, OSSUARY_OK, &a, sizeof a, &b, sizeof b) == 1);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 129, OSSUARY_ERR_INVALID_ARGUMENT, &a, sizeof a, &b, sizeof b) == 1);
    CHECK(second_source_admitted(1, 2, 0, OSSUARY_ERR_INVALID_ARGUMENT, &a, sizeof a, &b, sizeof b) == 1);
    /* IPv6: one /64 by default (0), or as many bits as asked. */
    struct sockaddr_in6 c = ipv6("2001:db8:1:2::1", 443), d = ipv6("2001:db8:1:2::2", 443), e = ipv6("2001:db8:1:3::1", 443);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0, OSSUARY_OK, &c, sizeof c, &d, sizeof d) == 0);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0, OSSUARY_OK, &c, sizeof c, &e, sizeof e) == 1);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 128, OSSUARY_OK, &c, sizeof c, &d, sizeof d) == 1);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 128, OSSUARY_OK, &c, sizeof c, &c, sizeof c) == 0);
    CHECK(second_source_admitted(1, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 48, OSSUARY_OK, &c, sizeof c, &e, sizeof e) == 0);

    /* At the limit, an unused connection of the source gives its place to the newcomer (evicted, its peer told why). */
    ossuary_dgram *server = endpoint(server_secret, 1), *first = endpoint(client_secret, 0), *second = endpoint(other_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_address_format(server, OSSUARY_DGRAM_ADDRESS_SOCKADDR, 0) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_source(server, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(first) == OSSUARY_OK && ossuary_dgram_set_accept_any_peer(second) == OSSUARY_OK);
    peer_t peers[] = { { first, &a, sizeof a }, { second, &b, sizeof b } };
    ossuary_dgram_conn first_conn = 0, second_conn = 0;
    CHECK(ossuary_dgram_connect(first, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &first_conn) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    ossuary_dgram_event first_accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(first_accepted.conn != 0);
    CHECK(ossuary_dgram_connect(second, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &second_conn) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    ossuary_dgram_event ev, closed = {0};
    int second_accepted = 0;
    while (ossuary_dgram_poll_event(server, &ev) == 1) {
        second_accepted += ev.kind == OSSUARY_DGRAM_EVENT_ACCEPTED && ev.conn != first_accepted.conn;
        if (ev.kind == OSSUARY_DGRAM_EVENT_CLOSED) closed = ev;
    }
    CHECK(second_accepted == 1);
    CHECK(closed.conn == first_accepted.conn && closed.close_reason == OSSUARY_DGRAM_CLOSE_EVICTED);
    ossuary_dgram_event told = wait_event(first, OSSUARY_DGRAM_EVENT_CLOSED);
    CHECK(told.conn == first_conn && told.close_reason == OSSUARY_DGRAM_CLOSE_BY_PEER && told.peer_close_code == OSSUARY_DGRAM_CODE_EVICTED);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS_EVICTED) == 1 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 1);
    CHECK(dropped(server, OSSUARY_DGRAM_DROP_SOURCE_LIMIT) == 0);
    CHECK(ossuary_dgram_free(first) == OSSUARY_OK && ossuary_dgram_free(second) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

static void test_peer_limit(void) {
    /* One key, at most one connection: a second connection of the key is dropped once the first carried a datagram. */
    ossuary_dgram *server = endpoint(server_secret, 1), *client = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_max_connections_per_peer(server, 1) == OSSUARY_OK);
    CHECK(ossuary_dgram_set_accept_any_peer(client) == OSSUARY_OK);
    ossuary_dgram_conn first = 0, second = 0;
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &first) == OSSUARY_OK);
    exchange(client, server);
    ossuary_dgram_event accepted = wait_event(server, OSSUARY_DGRAM_EVENT_ACCEPTED);
    CHECK(accepted.conn != 0);
    CHECK(ossuary_dgram_send(client, first, (const uint8_t *)"used", 4, now_ms) == OSSUARY_OK);
    exchange(client, server);
    CHECK(ossuary_dgram_connect(client, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &second) == OSSUARY_OK);
    exchange(client, server);
    CHECK(count_events(server, OSSUARY_DGRAM_EVENT_ACCEPTED, NULL) == 0);
    CHECK(dropped(server, OSSUARY_DGRAM_DROP_PEER_LIMIT) == 1 && dropped(server, OSSUARY_DGRAM_DROP_SOURCE_LIMIT) == 0);
    CHECK(statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 1);
    uint64_t value = 7;
    CHECK(ossuary_dgram_conn_statistic(client, second, OSSUARY_DGRAM_CONN_ESTABLISHED, &value) == OSSUARY_OK && value == 0);
    CHECK(ossuary_dgram_free(client) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
}

/* Two IK clients of a server with the given unused timeout (set_timeout 0: the default); one sends a datagram, the
 * other nothing. Returns the milliseconds after which the silent one was closed as unused (its peer told so, the
 * other connection left alone), 0 when it was not within 100 s, UINT64_MAX when anything else happened. */
static uint64_t unused_closed_after(int set_timeout, uint32_t ms, uint32_t refused_ms) {
    ossuary_dgram *server = endpoint(server_secret, 1), *busy = endpoint(client_secret, 0), *silent = endpoint(other_secret, 0);
    CHECK(ossuary_dgram_set_accept_any_peer(server) == OSSUARY_OK);
    if (set_timeout) CHECK(ossuary_dgram_set_unused_timeout(server, ms) == OSSUARY_OK);
    if (refused_ms) CHECK(ossuary_dgram_set_unused_timeout(server, refused_ms) == OSSUARY_ERR_INVALID_ARGUMENT);
    CHECK(ossuary_dgram_set_accept_any_peer(busy) == OSSUARY_OK && ossuary_dgram_set_accept_any_peer(silent) == OSSUARY_OK);
    const uint8_t busy_address[] = "busy:1", silent_address[] = "silent:1";
    peer_t peers[] = { { busy, busy_address, sizeof busy_address - 1 }, { silent, silent_address, sizeof silent_address - 1 } };
    ossuary_dgram_conn busy_conn = 0, silent_conn = 0;
    CHECK(ossuary_dgram_connect(busy, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &busy_conn) == OSSUARY_OK);
    CHECK(ossuary_dgram_connect(silent, SERVER_ADDRESS, server_public, NULL, 0, now_ms, &silent_conn) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    CHECK(count_events(server, OSSUARY_DGRAM_EVENT_ACCEPTED, NULL) == 2);
    CHECK(ossuary_dgram_send(busy, busy_conn, (const uint8_t *)"used", 4, now_ms) == OSSUARY_OK);
    exchange_peers(server, peers, 2);
    CHECK(count_events(server, OSSUARY_DGRAM_EVENT_READABLE, NULL) == 1);

    /* Only the server's time moves, deadline by deadline. */
    uint64_t start = now_ms, deadline = 0, result = 0;
    ossuary_dgram_event e, closed = {0};
    int other_events = 0;
    while (closed.conn == 0 && ossuary_dgram_next_timeout(server, &deadline) == 1 && deadline <= start + 100000) {
        now_ms = deadline;
        CHECK(ossuary_dgram_handle_timeout(server, now_ms) == OSSUARY_OK);
        while (ossuary_dgram_poll_event(server, &e) == 1) {
            if (e.kind == OSSUARY_DGRAM_EVENT_CLOSED) closed = e; else other_events++;
        }
    }
    if (closed.conn != 0) {
        result = UINT64_MAX;
        uint8_t key[32];
        exchange_peers(server, peers, 2); /* the close reaches the silent peer */
        ossuary_dgram_event told = wait_event(silent, OSSUARY_DGRAM_EVENT_CLOSED);
        if (closed.close_reason == OSSUARY_DGRAM_CLOSE_UNUSED && ossuary_dgram_peer_public_key(server, closed.conn, key) != OSSUARY_OK
            && told.conn == silent_conn && told.close_reason == OSSUARY_DGRAM_CLOSE_BY_PEER && told.peer_close_code == OSSUARY_DGRAM_CODE_UNUSED
            && count_events(busy, OSSUARY_DGRAM_EVENT_CLOSED, NULL) == 0 && count_events(server, OSSUARY_DGRAM_EVENT_CLOSED, NULL) == 0
            && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS_UNUSED) == 1 && statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) == 1) {
            result = now_ms - start;
        }
    } else if (statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS) != 2 || statistic(server, OSSUARY_DGRAM_STAT_CONNECTIONS_UNUSED) != 0) {
        result = UINT64_MAX;
    }
    CHECK(other_events == 0);
    CHECK(ossuary_dgram_free(busy) == OSSUARY_OK && ossuary_dgram_free(silent) == OSSUARY_OK && ossuary_dgram_free(server) == OSSUARY_OK);
    now_ms = 1000;
    return result;
}

static void test_unused_connections(void) {
    CHECK(unused_closed_after(1, 5000, 0) == 5000);
    CHECK(unused_closed_after(1, 5000, 86400001) == 5000); /* the refused value changed nothing */
    CHECK(unused_closed_after(0, 0, 0) == 60000);          /* the default */
    CHECK(unused_closed_after(0, 0, UINT32_MAX) == 60000);
    CHECK(unused_closed_after(1, 0, 0) == 0);              /* none */
}

/* A copy of text whose NUL is the last byte before an unreadable page. */
static char *string_before_guard_page(const char *text) {
    long page = sysconf(_SC_PAGESIZE);
    char *pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED || mprotect(pages + page, (size_t)page, PROT_NONE) != 0) return NULL;
    size_t len = strlen(text) + 1;
    memcpy(pages + page - len, text, len);
    return pages + page - len;
}

static void test_label_before_guard_page(void) {
    char *label = string_before_guard_page("label-at-the-edge");
    CHECK(label != NULL);
    if (!label) return;
    ossuary_dgram *ep = endpoint(client_secret, 0);
    CHECK(ossuary_dgram_set_service_label(ep, label) == OSSUARY_OK);
    CHECK(ossuary_dgram_free(ep) == OSSUARY_OK);
    long page = sysconf(_SC_PAGESIZE);
    munmap((char *)((uintptr_t)label & ~(uintptr_t)(page - 1)), 2 * (size_t)page);
}

int main(void) {
    if (ossuary_generate_keypair(client_secret, client_public) != OSSUARY_OK || ossuary_generate_keypair(server_secret, server_public) != OSSUARY_OK
        || ossuary_generate_keypair(other_secret, other_public) != OSSUARY_OK) {
        fprintf(stderr, "cannot make keys: %s\n", ossuary_last_error());
        return 1;
    }
    test_ik_conversation_and_early_data();
    test_xx_deferred_verification();
    test_post_quantum();
    test_callback_verifier();
    test_tampering_and_drops();
    test_timers();
    test_handles_settings_and_arguments();
    test_label_before_guard_page();
    test_new_settings_names_and_counters();
    test_ik_key_confirmation();
    test_ik_unconfirmed_handshake_times_out();
    test_an_unconfirmed_handshake_judged_by_the_library_stays_silent();
    test_xx_connected_only_after_the_verdict();
    test_source_limit();
    test_peer_limit();
    test_unused_connections();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
