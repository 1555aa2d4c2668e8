/*
 * ossuary.h: the C interface of OssuaryNet (libossuary.so).
 *
 * A secure channel as a sans-I/O state machine: you move the bytes (TCP, a pipe, a serial line), the library
 * turns them into plaintext and back. Handshakes are Noise XX (first contact) or IK (server key pinned), with
 * X25519, ChaCha20-Poly1305 and BLAKE2b (or AES-256-GCM and SHA-256). The wire protocol is docs/PROTOCOL.md.
 *
 * Conventions (as in libsodium):
 *   - Every size is both a macro and a function returning size_t (for bindings that cannot read macros).
 *   - Functions return an int status: OSSUARY_OK (0) or another non-negative OSSUARY_* status saying what is
 *     owed next, or a negative OSSUARY_ERR_* code. Output counts (written, consumed) are always set, to 0 on errors.
 *   - A negative code -N is the .NET OssuaryErrorCode N; ossuary_last_error() gives the message of the last
 *     failure on the calling thread (library-owned, valid until the next failing call on that thread). Messages
 *     never contain keys or plaintext.
 *   - Handles are opaque. A freed, never-created or made-up handle gives OSSUARY_ERR_INVALID_HANDLE, never a
 *     crash. ossuary_connection_free(NULL) does nothing. Calls on one handle from several threads are serialised
 *     by the handle's lock (use one thread per handle for speed); a verification callback runs outside that lock.
 *   - The caller owns every buffer it passes; the library keeps no pointer to them after a call returns, except
 *     the user_data of a verification callback.
 *   - No exception or signal ever crosses this interface: every failure is a status.
 *
 * Counterparts of the functions of libossuary (the original Rust crate's C FFI):
 *   ossuary_create_connection       -> ossuary_connection_new
 *   ossuary_destroy_connection      -> ossuary_connection_free
 *   ossuary_set_secret_key          -> ossuary_set_secret_key
 *   ossuary_add_authorized_key(s)   -> ossuary_add_authorized_key, ossuary_add_authorized_keys
 *   ossuary_generate_auth_keypair   -> ossuary_generate_keypair
 *   ossuary_remote_public_key       -> ossuary_remote_public_key (and ossuary_remote_fingerprint)
 *   ossuary_send_handshake          -> ossuary_handshake_send
 *   ossuary_recv_handshake          -> ossuary_handshake_recv
 *   ossuary_handshake_done          -> ossuary_handshake_done
 *   ossuary_send_data               -> ossuary_send_data
 *   ossuary_recv_data               -> ossuary_recv_data
 *   ossuary_flush                   -> ossuary_flush
 * Differences: lengths are size_t; every call reports bytes consumed and produced; a too-small output buffer is
 * OSSUARY_BUFFER_TOO_SMALL with the size needed (ossuary_required_size), never truncation or a hang; the close is
 * authenticated (ossuary_close / ossuary_end_of_input); trust is a callback, authorized keys or a known-hosts file.
 *
 * Typical loop (client; a server is the same with OSSUARY_ROLE_SERVER):
 *   ossuary_connection *c = ossuary_connection_new(OSSUARY_ROLE_CLIENT);
 *   ossuary_set_secret_key(c, my_secret); ossuary_set_server_key(c, server_public);   // IK; or a callback (XX)
 *   while (ossuary_handshake_done(c) == 0) {
 *       ossuary_handshake_send(c, out, sizeof out, &n);  send(fd, out, n)
 *       if (ossuary_handshake_done(c) != 0) break;
 *       len = recv(fd, in, sizeof in);                   ossuary_handshake_recv(c, in, len, &used)
 *   }
 *   ossuary_send_data(c, msg, msg_len, &used, out, sizeof out, &n);   send(fd, out, n)
 *   ossuary_recv_data(c, in, len, &used, plain, sizeof plain, &n);     // n bytes of plaintext
 *   ossuary_close(c); ossuary_flush(c, out, sizeof out, &n);           send(fd, out, n)
 *   ossuary_connection_free(c);
 */
#ifndef OSSUARY_H
#define OSSUARY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define OSSUARY_EXPORT __attribute__((visibility("default")))
#  define OSSUARY_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#else
#  define OSSUARY_EXPORT
#  define OSSUARY_WARN_UNUSED_RESULT
#endif

/* ---- statuses ------------------------------------------------------------------------------------------------ */

#define OSSUARY_OK                      0  /* done */
#define OSSUARY_NEED_MORE_INPUT         1  /* all input used; feed more received bytes */
#define OSSUARY_BUFFER_TOO_SMALL        2  /* output full or too small; ossuary_required_size() says how much helps */
#define OSSUARY_OUTPUT_PENDING          3  /* send what ossuary_flush() gives before feeding more input */
#define OSSUARY_CLOSED                  4  /* the peer closed its direction (authenticated); all its data delivered */
#define OSSUARY_HANDSHAKE_IN_PROGRESS   5  /* data cannot be sent before the handshake ends; nothing consumed */
#define OSSUARY_FAILED_AFTER_DATA       6  /* retired in 1.1, never returned: genuine plaintext is returned as usual and the next call reports the error */
#define OSSUARY_NEEDS_VERIFICATION      7  /* (1.1) the peer proved its key: judge it, then call ossuary_complete_verification */

#define OSSUARY_ERR_MALFORMED_FRAME        (-1)
#define OSSUARY_ERR_MALFORMED_HANDSHAKE    (-2)
#define OSSUARY_ERR_AUTHENTICATION_FAILED  (-3)   /* tampered, replayed or foreign data; or a wrong pinned key */
#define OSSUARY_ERR_UNEXPECTED_MESSAGE     (-4)
#define OSSUARY_ERR_UNSUPPORTED_VERSION    (-5)
#define OSSUARY_ERR_UNSUPPORTED_SUITE      (-6)
#define OSSUARY_ERR_UNSUPPORTED_PATTERN    (-7)
#define OSSUARY_ERR_UNSUPPORTED_EXTENSION  (-8)
#define OSSUARY_ERR_PEER_REJECTED          (-9)   /* a verifier (ours or the peer's) refused a key */
#define OSSUARY_ERR_PEER_KEY_CHANGED       (-10)  /* known-hosts mismatch: possible man in the middle */
#define OSSUARY_ERR_TRUNCATED              (-11)  /* the input ended without the peer's authenticated close */
#define OSSUARY_ERR_RECORD_TOO_LARGE       (-12)
#define OSSUARY_ERR_CLOSED                 (-13)  /* retired: sending after ossuary_close() is OSSUARY_ERR_INVALID_OPERATION */
#define OSSUARY_ERR_NONCE_EXHAUSTED        (-14)
#define OSSUARY_ERR_INVALID_KEY            (-15)
#define OSSUARY_ERR_KEY_FILE_PERMISSIONS   (-16)  /* private key file readable or writable by group or others */
#define OSSUARY_ERR_KEY_FILE_INVALID       (-17)
#define OSSUARY_ERR_NO_APPLICATION_PROTOCOL (-18)
#define OSSUARY_ERR_EARLY_DATA_REJECTED    (-19)
#define OSSUARY_ERR_HANDSHAKE_TIMEOUT      (-20)
#define OSSUARY_ERR_INVALID_OPERATION      (-21)  /* wrong call for the state, e.g. settings after the handshake began */
#define OSSUARY_ERR_INTERNAL               (-22)
#define OSSUARY_ERR_IDLE_TIMEOUT           (-23)  /* OssuaryStream only: nothing received for too long */
#define OSSUARY_ERR_POST_QUANTUM_DOWNGRADE (-24)  /* (1.2) a peer on record as hybrid, or a required policy, met a classical handshake */
#define OSSUARY_ERR_INVALID_HANDLE         (-100) /* not a live handle: never created, or freed */
#define OSSUARY_ERR_NULL_POINTER           (-101)
#define OSSUARY_ERR_INVALID_ARGUMENT       (-102) /* absurd length, unknown enum value, bad string */

/* ---- sizes --------------------------------------------------------------------------------------------------- */

#define OSSUARY_PUBLIC_KEY_BYTES        32U
#define OSSUARY_SECRET_KEY_BYTES        32U
#define OSSUARY_FINGERPRINT_BYTES       40U     /* "xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx" and a NUL */
#define OSSUARY_PUBLIC_KEY_TEXT_BYTES   45U     /* 44 characters of base64 and a NUL */
#define OSSUARY_MAX_FRAME_BYTES         65537U  /* the largest frame on the wire: a buffer this big always suffices */
#define OSSUARY_RECORD_OVERHEAD_BYTES   19U     /* wire bytes added to each record's payload (without padding) */
#define OSSUARY_HANDSHAKE_HASH_MAX_BYTES 64U

OSSUARY_EXPORT size_t ossuary_public_key_bytes(void);
OSSUARY_EXPORT size_t ossuary_secret_key_bytes(void);
OSSUARY_EXPORT size_t ossuary_fingerprint_bytes(void);
OSSUARY_EXPORT size_t ossuary_public_key_text_bytes(void);
OSSUARY_EXPORT size_t ossuary_max_frame_bytes(void);
OSSUARY_EXPORT size_t ossuary_record_overhead_bytes(void);
OSSUARY_EXPORT size_t ossuary_handshake_hash_max_bytes(void);

/* ---- library ------------------------------------------------------------------------------------------------- */

/* "1.2.0"; library-owned, static. */
OSSUARY_EXPORT const char *ossuary_version_string(void);
OSSUARY_EXPORT int ossuary_library_version_major(void);
OSSUARY_EXPORT int ossuary_library_version_minor(void);

/* The message of the last failure on this thread, "" if none; library-owned until the next failure on the thread. */
OSSUARY_EXPORT const char *ossuary_last_error(void);

/* ---- keys ---------------------------------------------------------------------------------------------------- */

/* A new X25519 identity from the system CSPRNG. Wipe secret_key when done (e.g. sodium_memzero or explicit_bzero). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_generate_keypair(uint8_t secret_key[32], uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_public_key_from_secret(const uint8_t secret_key[32], uint8_t public_key[32]);
/* The human-readable fingerprint, NUL-terminated; out_len >= OSSUARY_FINGERPRINT_BYTES or OSSUARY_BUFFER_TOO_SMALL. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_fingerprint(const uint8_t public_key[32], char *out, size_t out_len);
/* Public keys as 44 characters of base64 (what `ossuary id` prints), and back. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_public_key_to_text(const uint8_t public_key[32], char *out, size_t out_len);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_public_key_from_text(const char *text, uint8_t public_key[32]);
/* Key files as the ossuary tool writes them: saved with mode 0600; loading refuses files group or others can access
 * (OSSUARY_ERR_KEY_FILE_PERMISSIONS). Saving over an existing file needs overwrite != 0. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_keypair_load(const char *path, uint8_t secret_key[32], uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_keypair_save(const char *path, const uint8_t secret_key[32], int overwrite);

/* ---- connections --------------------------------------------------------------------------------------------- */

typedef struct ossuary_connection ossuary_connection;

#define OSSUARY_ROLE_CLIENT 0
#define OSSUARY_ROLE_SERVER 1

#define OSSUARY_SUITE_CHACHAPOLY_BLAKE2B 1
#define OSSUARY_SUITE_AESGCM_SHA256      2

#define OSSUARY_TOFU_ACCEPT 0   /* unknown endpoint: record its key and accept */
#define OSSUARY_TOFU_REJECT 1   /* unknown endpoint: reject */

#define OSSUARY_STATE_HANDSHAKING 0
#define OSSUARY_STATE_ESTABLISHED 1
#define OSSUARY_STATE_CLOSED      2   /* both directions closed */
#define OSSUARY_STATE_FAILED      3

/* A new connection for the given role, or NULL (see ossuary_last_error). Free it with ossuary_connection_free. */
OSSUARY_EXPORT ossuary_connection *ossuary_connection_new(int role);
/* Wipes the connection's keys and invalidates the handle. NULL is a no-op; a stale handle gives OSSUARY_ERR_INVALID_HANDLE. */
OSSUARY_EXPORT int ossuary_connection_free(ossuary_connection *conn);

/* Settings: allowed until the first handshake call, then OSSUARY_ERR_INVALID_OPERATION. Keys are copied. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_secret_key(ossuary_connection *conn, const uint8_t secret_key[32]);
/* Client: pin the server's key. The handshake is then IK (one round trip) and fails unless the server holds it. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_server_key(ossuary_connection *conn, const uint8_t public_key[32]);
/* Accept peers with these keys (a server's clients; or a client's possible servers). count * 32 bytes, count <= 65536. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_add_authorized_key(ossuary_connection *conn, const uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_add_authorized_keys(ossuary_connection *conn, const uint8_t *keys, size_t count);
/* Decide trust yourself: called during the handshake, on the calling thread, once the peer has proven its key.
 * Return 1 to accept, anything else to reject (OSSUARY_ERR_PEER_REJECTED). endpoint is NULL when none was set.
 * The pointers are valid only during the call. A callback takes precedence over every policy but deferred verification.
 * It is a convenience for ossuary_set_deferred_verification: the library calls it outside the handle's lock. */
typedef int (*ossuary_verify_callback)(const uint8_t public_key[32], const char *fingerprint,
                                       const char *endpoint, int peer_is_server, void *user_data);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_verify_callback(ossuary_connection *conn, ossuary_verify_callback callback, void *user_data);
/* Trust on first use with a known-hosts file keyed by the endpoint (ossuary_set_endpoint). A recorded key is pinned
 * (IK); a different key is OSSUARY_ERR_PEER_KEY_CHANGED. Writes are atomic and safe between processes. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_known_hosts(ossuary_connection *conn, const char *path, int tofu_policy);
/* Decide trust yourself, whenever you like (ask a person, a database): ossuary_handshake_recv stops with
 * OSSUARY_NEEDS_VERIFICATION once the peer has proven its key; read it with ossuary_remote_public_key or
 * ossuary_remote_fingerprint, then give the verdict with ossuary_complete_verification. Until then the connection
 * consumes no input and sends nothing (the handshake timeout still runs). Takes precedence over every other policy. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_deferred_verification(ossuary_connection *conn);
/* The verdict after OSSUARY_NEEDS_VERIFICATION: accept 1 trusts the peer, 0 rejects it (the peer is sent the
 * PeerRejected alert; flush it, then the call's OSSUARY_ERR_PEER_REJECTED stays). Returns OSSUARY_OUTPUT_PENDING when
 * this side's next handshake message is ready, OSSUARY_OK when the handshake has finished, OSSUARY_NEED_MORE_INPUT
 * otherwise. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_complete_verification(ossuary_connection *conn, int accept);
/* Encryption without authentication: any peer is accepted. A man in the middle can defeat this. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_accept_any_peer(ossuary_connection *conn);
/* How long the handshake may take, verification included, in milliseconds; 0 for no limit. Default 30000. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_handshake_timeout(ossuary_connection *conn, uint32_t timeout_ms);
/* The time the handshake starts, on your monotonic clock in milliseconds (e.g. CLOCK_MONOTONIC). Default 0. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_start_time(ossuary_connection *conn, uint64_t now_ms);
/* The library never reads a clock: 1 and *deadline_ms (your clock) when ossuary_handle_timeout must be called then;
 * 0 when nothing is timed (the handshake is over, or has no limit); negative on error. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_next_timeout(ossuary_connection *conn, uint64_t *deadline_ms);
/* Tells the connection the time: at or past the deadline an unfinished handshake fails with
 * OSSUARY_ERR_HANDSHAKE_TIMEOUT (returned here, and by every later call); otherwise OSSUARY_OK. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_handle_timeout(ossuary_connection *conn, uint64_t now_ms);
/* The peer's name ("host:port" for a client; the client's address for a server), given to verifiers and known hosts. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_endpoint(ossuary_connection *conn, const char *endpoint);
/* A string both sides must configure identically (bound into the handshake). Default "". */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_application_context(ossuary_connection *conn, const char *context);
/* (1.2) Post-quantum hybrid forward secrecy, Noise XXhfs/IKhfs with ML-KEM-768 beside X25519 (both roles):
 * OSSUARY_PQ_OFF (the default), OSSUARY_PQ_PREFERRED (a client offers it; a server accepts both), OSSUARY_PQ_REQUIRED
 * (nothing else). A server without it answers a hybrid offer with OSSUARY_ERR_UNSUPPORTED_PATTERN; the library does
 * not reconnect by itself: a client that wants to fall back opens a new connection with OSSUARY_PQ_OFF, and should
 * refuse to if it has seen that server speak the hybrid handshake (the refusal is unauthenticated: an attacker can
 * forge it). The first messages grow by 1184 (client) and 1104 (server) bytes. */
#define OSSUARY_PQ_OFF       0
#define OSSUARY_PQ_PREFERRED 1
#define OSSUARY_PQ_REQUIRED  2
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_post_quantum(ossuary_connection *conn, int policy);
/* Client: OSSUARY_SUITE_*; default ChaCha20-Poly1305 with BLAKE2b. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_set_suite(ossuary_connection *conn, int suite);

/* ---- driving the connection ---------------------------------------------------------------------------------- */

/* Takes the handshake bytes to send (the client's first message is ready at once). OSSUARY_OK when all were taken,
 * OSSUARY_BUFFER_TOO_SMALL when more remain (call again). Same as ossuary_flush. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_handshake_send(ossuary_connection *conn, uint8_t *out, size_t out_len, size_t *written);
/* Feeds received handshake bytes, in any chunking. OSSUARY_OUTPUT_PENDING: call ossuary_handshake_send;
 * OSSUARY_NEEDS_VERIFICATION (deferred verification only): judge the peer, then ossuary_complete_verification;
 * OSSUARY_NEED_MORE_INPUT: receive more; OSSUARY_OK: the handshake has finished (data that arrived with it waits for
 * ossuary_recv_data). Unconsumed bytes (*consumed < in_len) must be passed again. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_handshake_recv(ossuary_connection *conn, const uint8_t *in, size_t in_len, size_t *consumed);
/* 1 when the handshake is over and its last message has been taken out, 0 while it goes on, negative on failure. */
OSSUARY_EXPORT int ossuary_handshake_done(ossuary_connection *conn);

/* Seals plaintext into records, written to out (queued control frames first). Only whole records are produced:
 * *consumed says how much plaintext went in. OSSUARY_BUFFER_TOO_SMALL: send *written bytes, then call again with the
 * rest (ossuary_required_size() gives the size of the next record); OSSUARY_MAX_FRAME_BYTES always suffices. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_send_data(ossuary_connection *conn, const uint8_t *in, size_t in_len, size_t *consumed,
                                                                 uint8_t *out, size_t out_len, size_t *written);
/* Opens received records into plaintext. OSSUARY_NEED_MORE_INPUT: all input used; OSSUARY_BUFFER_TOO_SMALL: out is
 * full and more plaintext or input remains (call again, with in_len 0 if all input was consumed);
 * OSSUARY_OUTPUT_PENDING: flush first (a pong); OSSUARY_CLOSED: the peer closed. When a record fails after genuine plaintext
 * of the same call, that plaintext is returned as usual and the next call reports the error.
 * A record that fails authentication gives OSSUARY_ERR_AUTHENTICATION_FAILED, releases nothing, and the connection
 * stays failed: every later call returns the same error. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_recv_data(ossuary_connection *conn, const uint8_t *in, size_t in_len, size_t *consumed,
                                                                 uint8_t *out, size_t out_len, size_t *written);
/* Takes queued frames (handshake messages, pongs, the close, alerts after a failure). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_flush(ossuary_connection *conn, uint8_t *out, size_t out_len, size_t *written);
/* Queues the authenticated close of this side's sending direction (half-close); send it with ossuary_flush. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_close(ossuary_connection *conn);
/* Tell the connection the transport ended (recv() returned 0): OSSUARY_OK after the peer's close, else
 * OSSUARY_ERR_TRUNCATED, because an attacker can cut a stream but cannot forge the close. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_end_of_input(ossuary_connection *conn);
/* Queues a ping of at most 64 bytes; the peer answers with a pong. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_ping(ossuary_connection *conn, const uint8_t *data, size_t len);
/* After OSSUARY_BUFFER_TOO_SMALL: the output size that lets the call progress; 0 for an invalid handle. */
OSSUARY_EXPORT size_t ossuary_required_size(ossuary_connection *conn);
/* OSSUARY_STATE_*, or a negative error. */
OSSUARY_EXPORT int ossuary_connection_state(ossuary_connection *conn);

/* ---- identity of the session --------------------------------------------------------------------------------- */

OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_remote_public_key(ossuary_connection *conn, uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_remote_fingerprint(ossuary_connection *conn, char *out, size_t out_len);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_local_public_key(ossuary_connection *conn, uint8_t public_key[32]);
/* The handshake hash (32 or 64 bytes; same on both sides, unique per session): for channel binding. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_handshake_hash(ossuary_connection *conn, uint8_t *out, size_t out_len, size_t *written);

/* ---- datagram mode (1.2) ------------------------------------------------------------------------------------- */
/*
 * One packet socket, many connections (docs/PROTOCOL.md section 12): Noise IK or XX over UDP (or any datagram
 * transport), with cookies against spoofed floods, a replay window, rekeying every 2 minutes and roaming. As with
 * connections, the library never touches a socket or a clock: you pass each received packet and the address it came
 * from, send what ossuary_dgram_poll_transmit gives to the address it gives, and call ossuary_dgram_handle_timeout at
 * ossuary_dgram_next_timeout. Addresses are opaque byte strings of 1 to 64 bytes (e.g. a struct sockaddr_in6 as is):
 * the library compares them and hands them back, nothing else.
 *
 * Rules as above: statuses, ossuary_last_error, the caller owns every buffer, a freed or made-up endpoint (or a
 * connection handle passed as an endpoint) gives OSSUARY_ERR_INVALID_HANDLE. A connection is named by a number
 * (ossuary_dgram_conn) unique within its endpoint and never reused; 0 is none; a closed or unknown one gives
 * OSSUARY_ERR_INVALID_HANDLE where a live one is needed. Network input never fails a call: a packet that is malformed,
 * forged, replayed or unexpected is dropped and counted (ossuary_dgram_dropped). Datagrams are unreliable and
 * unordered, as UDP is.
 *
 * Loop (both sides; a server passes accept_connections = 1):
 *   ossuary_dgram *ep = ossuary_dgram_new(secret, 0, now_ms());   ossuary_dgram_add_authorized_key(ep, server_key);
 *   ossuary_dgram_connect(ep, &sa, sizeof sa, server_key, NULL, 0, now_ms(), &conn);   // IK; NULL key: XX
 *   for (;;) {
 *       while (ossuary_dgram_poll_transmit(ep, pkt, sizeof pkt, &n, addr, sizeof addr, &alen) == 1) sendto(fd, pkt, n, 0, addr, alen);
 *       while (ossuary_dgram_poll_event(ep, &ev) == 1) { ...CONNECTED, ACCEPTED, READABLE, CLOSED... }
 *       while (ossuary_dgram_recv(ep, conn, buf, sizeof buf, &n, &flags) == 1) { ...n bytes... }
 *       wait for the socket until the deadline of ossuary_dgram_next_timeout;
 *       readable: n = recvfrom(fd, pkt, sizeof pkt, 0, addr, &alen); ossuary_dgram_handle_datagram(ep, pkt, n, addr, alen, now_ms());
 *       else: ossuary_dgram_handle_timeout(ep, now_ms());
 *   }
 *   ossuary_dgram_send(ep, conn, data, len, now_ms());   ossuary_dgram_close(ep, conn, 0, now_ms());   ossuary_dgram_free(ep);
 */

typedef struct ossuary_dgram ossuary_dgram;
typedef uint64_t ossuary_dgram_conn;

#define OSSUARY_QUEUED                  8   /* ossuary_dgram_send: held until the handshake completes (16 at most) */

#define OSSUARY_DGRAM_MAX_ADDRESS_BYTES 64U
#define OSSUARY_DGRAM_MAX_DATAGRAM_BYTES 1200U /* the default largest packet (ossuary_dgram_set_max_datagram_size) */

/* Events (ossuary_dgram_event.kind). */
#define OSSUARY_DGRAM_EVENT_CONNECTED             1 /* a connection this side started can send and receive */
#define OSSUARY_DGRAM_EVENT_ACCEPTED              2 /* a peer's handshake completed, its key was accepted and a packet under the new keys arrived: a new connection */
#define OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED 3 /* deferred verification only: judge the peer, then ossuary_dgram_complete_verification */
#define OSSUARY_DGRAM_EVENT_READABLE              4 /* datagrams wait for ossuary_dgram_recv (raised when the queue stops being empty) */
#define OSSUARY_DGRAM_EVENT_PEER_MOVED            5 /* an authenticated packet moved the peer to a new address */
#define OSSUARY_DGRAM_EVENT_CLOSED                6 /* the connection is gone (close_reason says why); its number is dead */

/* Why a connection closed (ossuary_dgram_event.close_reason). */
#define OSSUARY_DGRAM_CLOSE_LOCAL               1 /* ossuary_dgram_close */
#define OSSUARY_DGRAM_CLOSE_BY_PEER             2 /* an authenticated close; its code is peer_close_code */
#define OSSUARY_DGRAM_CLOSE_HANDSHAKE_TIMED_OUT 3 /* no answer for 90 s, or a dead peer did not answer a new handshake */
#define OSSUARY_DGRAM_CLOSE_PEER_REJECTED       4 /* the peer's key was rejected, or was not the key given to connect */
#define OSSUARY_DGRAM_CLOSE_IDLE                5 /* no handshake for 540 s: keys wiped */
#define OSSUARY_DGRAM_CLOSE_UNUSED              6 /* responder: the peer sent no datagram within the unused timeout (60 s) */
#define OSSUARY_DGRAM_CLOSE_EVICTED             7 /* responder: the peer had sent no datagram, and a newcomer needed its place */

/* Reason codes a close carries (ossuary_dgram_close's code, peer_close_code); 256 and above are the application's. */
#define OSSUARY_DGRAM_CODE_NORMAL        0 /* nothing in particular: done */
#define OSSUARY_DGRAM_CODE_IDLE          1 /* the application closed an idle connection */
#define OSSUARY_DGRAM_CODE_UNUSED        2 /* the responder closed a connection its peer never used */
#define OSSUARY_DGRAM_CODE_EVICTED       3 /* the responder gave the place of an unused connection to a newcomer */
#define OSSUARY_DGRAM_CODE_PROBE         4 /* the connection only checked that the peer answers with the expected key */
#define OSSUARY_DGRAM_CODE_SHUTTING_DOWN 5
#define OSSUARY_DGRAM_CODE_BUSY          6 /* the application had no room for the connection */
#define OSSUARY_DGRAM_CODE_FIRST_APPLICATION 256

typedef struct ossuary_dgram_event {
    ossuary_dgram_conn conn;
    int32_t kind;              /* OSSUARY_DGRAM_EVENT_* */
    int32_t close_reason;      /* OSSUARY_DGRAM_CLOSE_* for OSSUARY_DGRAM_EVENT_CLOSED, else 0 */
    uint32_t peer_close_code;  /* the code of the peer's ossuary_dgram_close, for OSSUARY_DGRAM_CLOSE_BY_PEER */
    uint32_t reserved;
} ossuary_dgram_event;

/* How per-source limits read addresses (ossuary_dgram_set_address_format). */
#define OSSUARY_DGRAM_ADDRESS_OPAQUE   0 /* the default: every address is its own source */
#define OSSUARY_DGRAM_ADDRESS_SOCKADDR 1 /* addresses are struct sockaddr_in / sockaddr_in6: one source per IPv4 address or IPv6 prefix */

/* Address validation (a cookie round trip before the responder spends a Diffie-Hellman on an Initiation). */
#define OSSUARY_DGRAM_VALIDATE_UNDER_LOAD 0 /* the default: only while Initiations arrive faster than 1000/s or the half-open table fills */
#define OSSUARY_DGRAM_VALIDATE_ALWAYS     1
#define OSSUARY_DGRAM_VALIDATE_NEVER      2 /* closed networks only */

/* ossuary_dgram_recv flags. */
#define OSSUARY_DGRAM_RECV_EARLY_DATA 1 /* 0-RTT data from an IK Initiation: replayable to a responder that restarted; act on it only if twice is harmless */

/* A new endpoint with this identity (copied; wipe yours), or NULL (see ossuary_last_error). accept_connections 1 makes
 * it a responder too. now_ms is your monotonic clock, the origin of every later time. Also reads the wall clock once
 * (see ossuary_dgram_set_wall_clock). Free it with ossuary_dgram_free, which wipes every key; NULL is a no-op. */
OSSUARY_EXPORT ossuary_dgram *ossuary_dgram_new(const uint8_t secret_key[32], int accept_connections, uint64_t now_ms);
OSSUARY_EXPORT int ossuary_dgram_free(ossuary_dgram *ep);

/* Settings: allowed until the endpoint is first used (any call below that takes now_ms, a packet or a connection),
 * then OSSUARY_ERR_INVALID_OPERATION. An out-of-range value gives OSSUARY_ERR_INVALID_ARGUMENT and changes nothing. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_suite(ossuary_dgram *ep, int suite);                      /* OSSUARY_SUITE_*; both sides alike */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_service_label(ossuary_dgram *ep, const char *label);       /* default "ossuary"; both sides alike; at most 200 bytes */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_address_validation(ossuary_dgram *ep, int policy);        /* OSSUARY_DGRAM_VALIDATE_* */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_accept_early_data(ossuary_dgram *ep, int accept);         /* default 0: early data is refused and counted */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_allow_roaming(ossuary_dgram *ep, int allow);              /* default 1 */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_max_datagram_size(ossuary_dgram *ep, size_t bytes);       /* default 1200 (the smallest, an Initiation's size) to 65507 */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_max_connections(ossuary_dgram *ep, uint32_t count);       /* default 16384 */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_persistent_keepalive(ossuary_dgram *ep, uint32_t ms);     /* 0 (default): none; else a packet at least this often, for NAT */
/* Responder limits. A connection exists only once a packet under its new keys arrived; before, a handshake holds a
 * half-open place (4096 in all, 8 per source). Per source and per peer key, 0 means the default: a quarter of
 * ossuary_dgram_set_max_connections. At a limit, the oldest connection whose peer sent no datagram gives its place. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_max_connections_per_source(ossuary_dgram *ep, uint32_t count);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_max_connections_per_peer(ossuary_dgram *ep, uint32_t count);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_unused_timeout(ossuary_dgram *ep, uint32_t ms);  /* default 60000; 0: none; at most 86400000 (a day). A responder closes a connection whose peer sent no datagram (early data counts) this long after it was made */
/* OSSUARY_DGRAM_ADDRESS_*; with SOCKADDR, ipv6_prefix_bits (1 to 128; 0 means 64) groups IPv6 addresses. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_address_format(ossuary_dgram *ep, int format, uint32_t ipv6_prefix_bits);
/* The wall-clock time (Unix milliseconds) at which the now_ms given to ossuary_dgram_new was taken; IK Initiations
 * carry it plus the time elapsed since, so that a responder refuses replays even after this endpoint restarts. The
 * default is the system's wall clock read once by ossuary_dgram_new. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_wall_clock(ossuary_dgram *ep, uint64_t unix_ms);
/* Post-quantum hybrid handshakes (XXhfs/IKhfs), OSSUARY_PQ_*; default off. An initiator with PREFERRED or REQUIRED
 * always starts hybrid and never falls back (datagram mode has no refusal message); a responder with PREFERRED
 * accepts both kinds, with REQUIRED only hybrid ones (others are dropped: OSSUARY_DGRAM_DROP_UNSUPPORTED_PATTERN).
 * Hybrid Initiations exceed 1200 bytes: set ossuary_dgram_set_max_datagram_size to 1400 or more first, on both
 * sides, or this call fails with OSSUARY_ERR_INVALID_ARGUMENT. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_post_quantum(ossuary_dgram *ep, int policy);
/* Trust, chosen once per endpoint and applied to every handshake in either role (one of these is required):
 * authorized keys; a callback (its endpoint argument is the peer's address in hex; it runs outside the endpoint's
 * lock, on the thread of the call that completed the handshake); accept-any (encryption without authentication);
 * or deferred: every handshake stops with OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED until
 * ossuary_dgram_complete_verification. Precedence: deferred, callback, authorized keys, accept-any. A key given to
 * ossuary_dgram_connect is checked by the handshake itself (IK) and needs no verifier. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_add_authorized_key(ossuary_dgram *ep, const uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_verify_callback(ossuary_dgram *ep, ossuary_verify_callback callback, void *user_data);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_accept_any_peer(ossuary_dgram *ep);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_set_deferred_verification(ossuary_dgram *ep);

/* Starts a connection to address: IK with peer_key (one round trip; early_data, at most
 * ossuary_dgram_max_early_data_bytes, rides in the first packet), XX with peer_key NULL (the verifier judges the
 * peer; no early data). *conn names it at once; OSSUARY_DGRAM_EVENT_CONNECTED follows once the responder has let the
 * connection in (XX: its first packet under the new keys, after its verdict), or CLOSED. Send before that and the
 * datagrams wait (OSSUARY_QUEUED), none lost. OSSUARY_ERR_INVALID_OPERATION at the connection limit. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_connect(ossuary_dgram *ep, const uint8_t *address, size_t address_len,
                                                                     const uint8_t peer_key[32], const uint8_t *early_data, size_t early_data_len,
                                                                     uint64_t now_ms, ossuary_dgram_conn *conn);
/* One received packet and its source address. OSSUARY_OK whatever the packet held (bad ones are counted, not
 * reported); an error only for the caller's mistakes (a NULL pointer, an address of 0 or more than 64 bytes). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_handle_datagram(ossuary_dgram *ep, const uint8_t *packet, size_t packet_len,
                                                                             const uint8_t *from, size_t from_len, uint64_t now_ms);
/* The next packet to send and its destination: 1 and the lengths set, 0 when none waits, OSSUARY_BUFFER_TOO_SMALL
 * when a buffer is too small (the packet stays queued; ossuary_dgram_max_datagram_bytes(ep) and
 * OSSUARY_DGRAM_MAX_ADDRESS_BYTES always suffice). Drain it after every call that takes now_ms. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_poll_transmit(ossuary_dgram *ep, uint8_t *packet, size_t packet_cap, size_t *packet_len,
                                                                           uint8_t *address, size_t address_cap, size_t *address_len);
/* 1 and *deadline_ms (your clock) when ossuary_dgram_handle_timeout must be called then; 0 when nothing is timed. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_next_timeout(ossuary_dgram *ep, uint64_t *deadline_ms);
/* Runs what is due at now_ms: retransmissions, keepalives, rekeys, expiries. Calling it early does no harm. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_handle_timeout(ossuary_dgram *ep, uint64_t now_ms);
/* The next event: 1 and *event filled, 0 when none waits. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_poll_event(ossuary_dgram *ep, ossuary_dgram_event *event);
/* Deferred verification: the verdict on the key of OSSUARY_DGRAM_EVENT_VERIFICATION_REQUIRED (read it with
 * ossuary_dgram_peer_public_key). Accepted, the handshake goes on; rejected, nothing is sent and an initiator's
 * connection closes (OSSUARY_DGRAM_CLOSE_PEER_REJECTED). OSSUARY_ERR_INVALID_OPERATION when none is pending (a
 * responder's pending handshake expires after 15 s). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_complete_verification(ossuary_dgram *ep, ossuary_dgram_conn conn, int accept, uint64_t now_ms);
/* Seals one datagram (at most ossuary_dgram_max_payload_bytes) for the peer: OSSUARY_OK (a packet waits in
 * ossuary_dgram_poll_transmit), OSSUARY_QUEUED (the handshake is still running), OSSUARY_CLOSED (the connection is
 * closed or closing; nothing sent), OSSUARY_ERR_RECORD_TOO_LARGE (nothing sent). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_send(ossuary_dgram *ep, ossuary_dgram_conn conn, const uint8_t *data, size_t len, uint64_t now_ms);
/* The oldest datagram received on conn: 1, *written and *flags (OSSUARY_DGRAM_RECV_*; flags may be NULL) set; 0 when
 * none waits (or the connection is gone); OSSUARY_BUFFER_TOO_SMALL when it does not fit (it stays queued;
 * ossuary_dgram_max_payload_bytes always suffices). At most 256 wait per connection; beyond, new ones are dropped and counted. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_recv(ossuary_dgram *ep, ossuary_dgram_conn conn, uint8_t *out, size_t out_cap, size_t *written, int *flags);
/* Closes conn with an authenticated close carrying code (repeated for 3 s while the peer's packets still arrive);
 * OSSUARY_DGRAM_EVENT_CLOSED follows. Closing a closed or unknown connection does nothing. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_close(ossuary_dgram *ep, ossuary_dgram_conn conn, uint16_t code, uint64_t now_ms);

/* Sizes of this endpoint (0 for an invalid handle). */
OSSUARY_EXPORT size_t ossuary_dgram_max_payload_bytes(ossuary_dgram *ep);    /* largest datagram ossuary_dgram_send takes: 1167 at the default size */
OSSUARY_EXPORT size_t ossuary_dgram_max_early_data_bytes(ossuary_dgram *ep);
OSSUARY_EXPORT size_t ossuary_dgram_max_datagram_bytes(ossuary_dgram *ep);  /* the largest packet it sends or takes */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_local_public_key(ossuary_dgram *ep, uint8_t public_key[32]);
/* The peer's key: the key awaiting a verdict, else the verified (or, for IK, the given) key. */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_peer_public_key(ossuary_dgram *ep, ossuary_dgram_conn conn, uint8_t public_key[32]);
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_peer_fingerprint(ossuary_dgram *ep, ossuary_dgram_conn conn, char *out, size_t out_len);
/* The peer's current address (it changes when the peer roams). */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_peer_address(ossuary_dgram *ep, ossuary_dgram_conn conn, uint8_t *out, size_t out_cap, size_t *written);

/* Endpoint counters, read one at a time (later versions add numbers, never change them). */
#define OSSUARY_DGRAM_STAT_HANDSHAKES_STARTED        1
#define OSSUARY_DGRAM_STAT_HANDSHAKES_COMPLETED      2
#define OSSUARY_DGRAM_STAT_HANDSHAKES_TIMED_OUT      3
#define OSSUARY_DGRAM_STAT_HANDSHAKES_REJECTED       4
#define OSSUARY_DGRAM_STAT_HANDSHAKE_RETRANSMISSIONS 5
#define OSSUARY_DGRAM_STAT_COOKIE_REPLIES_SENT       6
#define OSSUARY_DGRAM_STAT_TOKENS_ACCEPTED           7
#define OSSUARY_DGRAM_STAT_TOKENS_MALFORMED          8
#define OSSUARY_DGRAM_STAT_TOKENS_EXPIRED            9
#define OSSUARY_DGRAM_STAT_TOKENS_FORGED             10
#define OSSUARY_DGRAM_STAT_TIMES_UNDER_LOAD          11
#define OSSUARY_DGRAM_STAT_TIME_UNDER_LOAD_MS        12
#define OSSUARY_DGRAM_STAT_REKEYS                    13
#define OSSUARY_DGRAM_STAT_ROAMING_EVENTS            14
#define OSSUARY_DGRAM_STAT_EARLY_DATA_ACCEPTED       15
#define OSSUARY_DGRAM_STAT_EARLY_DATA_REFUSED        16
#define OSSUARY_DGRAM_STAT_QUEUED_DATAGRAMS_DROPPED  17
#define OSSUARY_DGRAM_STAT_TRANSMITS_DROPPED         18
#define OSSUARY_DGRAM_STAT_HALF_OPEN_HANDSHAKES      19 /* now */
#define OSSUARY_DGRAM_STAT_CONNECTIONS               20 /* now */
#define OSSUARY_DGRAM_STAT_PACKETS_IN                21
#define OSSUARY_DGRAM_STAT_BYTES_IN                  22
#define OSSUARY_DGRAM_STAT_PACKETS_OUT               23
#define OSSUARY_DGRAM_STAT_BYTES_OUT                 24
#define OSSUARY_DGRAM_STAT_DROPPED                   25 /* all reasons */
#define OSSUARY_DGRAM_STAT_CONNECTIONS_EVICTED       26
#define OSSUARY_DGRAM_STAT_CONNECTIONS_UNUSED        27
#define OSSUARY_DGRAM_STAT_HANDSHAKES_UNCONFIRMED    28 /* IK answered, no packet under the keys within 15 s: no connection made */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_statistic(ossuary_dgram *ep, int which, uint64_t *value);

/* Packets dropped, by reason (docs/PROTOCOL.md 12.10 says which checks give which). */
#define OSSUARY_DGRAM_DROP_MALFORMED               1
#define OSSUARY_DGRAM_DROP_UNKNOWN_TYPE_OR_VERSION 2
#define OSSUARY_DGRAM_DROP_BAD_MAC1                3
#define OSSUARY_DGRAM_DROP_UNKNOWN_SESSION         4
#define OSSUARY_DGRAM_DROP_EXPIRED_KEY_PAIR        5
#define OSSUARY_DGRAM_DROP_COUNTER_LIMIT           6
#define OSSUARY_DGRAM_DROP_DUPLICATE               7
#define OSSUARY_DGRAM_DROP_BEHIND_WINDOW           8
#define OSSUARY_DGRAM_DROP_AUTHENTICATION_FAILED   9
#define OSSUARY_DGRAM_DROP_RATE_LIMITED            10
#define OSSUARY_DGRAM_DROP_TABLE_FULL              11
#define OSSUARY_DGRAM_DROP_OVERSIZE                12
#define OSSUARY_DGRAM_DROP_RECEIVE_QUEUE_FULL      13
#define OSSUARY_DGRAM_DROP_HANDSHAKE_FAILED        14
#define OSSUARY_DGRAM_DROP_STALE_TIMESTAMP         15
#define OSSUARY_DGRAM_DROP_CONNECTION_LIMIT        16
#define OSSUARY_DGRAM_DROP_UNEXPECTED              17
#define OSSUARY_DGRAM_DROP_UNSUPPORTED_PATTERN     18 /* an Initiation of a variant the post-quantum policy excludes */
#define OSSUARY_DGRAM_DROP_SOURCE_LIMIT            19 /* a new connection for a source at its limit, none of its connections unused */
#define OSSUARY_DGRAM_DROP_PEER_LIMIT              20 /* a new connection for a peer key at its limit, none of its connections unused */
#define OSSUARY_DGRAM_DROP_REASONS                 20 /* the highest reason of this version */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_dropped(ossuary_dgram *ep, int reason, uint64_t *value);
/* "Malformed", "BadMac1", ...: static; "" for an unknown reason. */
OSSUARY_EXPORT const char *ossuary_dgram_drop_reason_name(int reason);

/* Connection counters. */
#define OSSUARY_DGRAM_CONN_ESTABLISHED             1  /* 0 or 1 */
#define OSSUARY_DGRAM_CONN_INITIATOR               2  /* 0 or 1 */
#define OSSUARY_DGRAM_CONN_PATTERN                 3  /* 1 XX, 2 IK */
#define OSSUARY_DGRAM_CONN_EARLY_DATA_USED         4
#define OSSUARY_DGRAM_CONN_ADDRESS_VALIDATED       5
#define OSSUARY_DGRAM_CONN_PACKETS_IN              6
#define OSSUARY_DGRAM_CONN_BYTES_IN                7
#define OSSUARY_DGRAM_CONN_PACKETS_OUT             8
#define OSSUARY_DGRAM_CONN_BYTES_OUT               9
#define OSSUARY_DGRAM_CONN_AUTHENTICATION_FAILURES 10
#define OSSUARY_DGRAM_CONN_SMOOTHED_RTT_US         11 /* 0 before the first sample */
#define OSSUARY_DGRAM_CONN_KEY_AGE_MS              12 /* UINT64_MAX before the first keys */
#define OSSUARY_DGRAM_CONN_LARGEST_REORDER_DEPTH   13
#define OSSUARY_DGRAM_CONN_ESTIMATED_LOSS_PPM      14 /* parts per million */
OSSUARY_EXPORT OSSUARY_WARN_UNUSED_RESULT int ossuary_dgram_conn_statistic(ossuary_dgram *ep, ossuary_dgram_conn conn, int which, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif /* OSSUARY_H */
