"""OssuaryNet from Python through libossuary.so (ctypes, standard library only).

The connection is the sans-I/O core: feed it received bytes, send what it gives you. `SecureSocket` drives one over
a TCP socket. Datagram mode: `DatagramEndpoint` is one packet socket's many connections, sans-I/O; `DatagramSocket`
drives one over a UDP socket. The library is found through $OSSUARY_LIBRARY, else native/out/lib/libossuary.so in this checkout,
else the system's libossuary.so.1.
"""
import collections
import ctypes
import os
import select
import socket
import time

__all__ = ["OssuaryError", "Connection", "SecureSocket", "DatagramEndpoint", "DatagramEvent", "DatagramSocket",
           "generate_keypair", "fingerprint", "public_key_from_text", "public_key_to_text", "version", "CLIENT", "SERVER"]

OK, NEED_MORE_INPUT, BUFFER_TOO_SMALL, OUTPUT_PENDING, CLOSED, HANDSHAKE_IN_PROGRESS = range(6)
NEEDS_VERIFICATION = 7  # 6 is retired
CLIENT, SERVER = 0, 1
MAX_FRAME_BYTES = 65537
PQ_OFF, PQ_PREFERRED, PQ_REQUIRED = 0, 1, 2  # post-quantum hybrid handshake (XXhfs/IKhfs with ML-KEM-768)

# Datagram mode (ossuary.h, "datagram mode").
QUEUED = 8
EVENT_CONNECTED, EVENT_ACCEPTED, EVENT_VERIFICATION_REQUIRED, EVENT_READABLE, EVENT_PEER_MOVED, EVENT_CLOSED = range(1, 7)
CLOSE_LOCAL, CLOSE_BY_PEER, CLOSE_HANDSHAKE_TIMED_OUT, CLOSE_PEER_REJECTED, CLOSE_IDLE, CLOSE_UNUSED, CLOSE_EVICTED = range(1, 8)
# Reason codes a close carries (peer_close_code); 256 and above are the application's.
CODE_NORMAL, CODE_IDLE, CODE_UNUSED, CODE_EVICTED, CODE_PROBE, CODE_SHUTTING_DOWN, CODE_BUSY = range(7)
CODE_FIRST_APPLICATION = 256
ADDRESS_OPAQUE, ADDRESS_SOCKADDR = 0, 1  # how per-source limits read addresses
VALIDATE_UNDER_LOAD, VALIDATE_ALWAYS, VALIDATE_NEVER = range(3)
RECV_EARLY_DATA = 1
SUITE_CHACHAPOLY_BLAKE2B, SUITE_AESGCM_SHA256 = 1, 2
MAX_ADDRESS_BYTES = 64
ENDPOINT_STATISTICS = [
    "handshakes_started", "handshakes_completed", "handshakes_timed_out", "handshakes_rejected",
    "handshake_retransmissions", "cookie_replies_sent", "tokens_accepted", "tokens_malformed", "tokens_expired",
    "tokens_forged", "times_under_load", "time_under_load_ms", "rekeys", "roaming_events", "early_data_accepted",
    "early_data_refused", "queued_datagrams_dropped", "transmits_dropped", "half_open_handshakes", "connections",
    "packets_in", "bytes_in", "packets_out", "bytes_out", "dropped", "connections_evicted", "connections_unused",
    "handshakes_unconfirmed",
]  # OSSUARY_DGRAM_STAT_* are their positions + 1
CONNECTION_STATISTICS = [
    "established", "initiator", "pattern", "early_data_used", "address_validated", "packets_in", "bytes_in",
    "packets_out", "bytes_out", "authentication_failures", "smoothed_rtt_us", "key_age_ms", "largest_reorder_depth",
    "estimated_loss_ppm",
]  # OSSUARY_DGRAM_CONN_*
DROP_REASONS = 20

ERRORS = {
    -1: "MALFORMED_FRAME", -2: "MALFORMED_HANDSHAKE", -3: "AUTHENTICATION_FAILED", -4: "UNEXPECTED_MESSAGE",
    -5: "UNSUPPORTED_VERSION", -6: "UNSUPPORTED_SUITE", -7: "UNSUPPORTED_PATTERN", -8: "UNSUPPORTED_EXTENSION",
    -9: "PEER_REJECTED", -10: "PEER_KEY_CHANGED", -11: "TRUNCATED", -12: "RECORD_TOO_LARGE", -13: "CLOSED",
    -14: "NONCE_EXHAUSTED", -15: "INVALID_KEY", -16: "KEY_FILE_PERMISSIONS", -17: "KEY_FILE_INVALID",
    -18: "NO_APPLICATION_PROTOCOL", -19: "EARLY_DATA_REJECTED", -20: "HANDSHAKE_TIMEOUT", -21: "INVALID_OPERATION",
    -22: "INTERNAL", -23: "IDLE_TIMEOUT", -24: "POST_QUANTUM_DOWNGRADE", -100: "INVALID_HANDLE", -101: "NULL_POINTER",
    -102: "INVALID_ARGUMENT",
}


class OssuaryError(Exception):
    """A negative status from libossuary: `code` (e.g. -3), `name` (e.g. "AUTHENTICATION_FAILED") and the message."""

    def __init__(self, code, message):
        self.code = code
        self.name = ERRORS.get(code, "UNKNOWN")
        super().__init__(f"{self.name} ({code}): {message}")


def _find_library():
    explicit = os.environ.get("OSSUARY_LIBRARY")
    if explicit:
        return explicit
    local = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "native", "out", "lib", "libossuary.so")
    return local if os.path.exists(local) else "libossuary.so.1"


_lib = ctypes.CDLL(_find_library())
_u8p = ctypes.POINTER(ctypes.c_uint8)
_size_p = ctypes.POINTER(ctypes.c_size_t)
VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, _u8p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p)

for _name, _args, _result in [
    ("ossuary_version_string", [], ctypes.c_char_p),
    ("ossuary_last_error", [], ctypes.c_char_p),
    ("ossuary_generate_keypair", [ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_fingerprint", [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_int),
    ("ossuary_public_key_to_text", [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_int),
    ("ossuary_public_key_from_text", [ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_connection_new", [ctypes.c_int], ctypes.c_void_p),
    ("ossuary_connection_free", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_set_secret_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_set_server_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_add_authorized_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_set_verify_callback", [ctypes.c_void_p, VERIFY_CALLBACK, ctypes.c_void_p], ctypes.c_int),
    ("ossuary_set_accept_any_peer", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_set_deferred_verification", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_complete_verification", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_set_handshake_timeout", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_set_known_hosts", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_set_endpoint", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_set_application_context", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_set_post_quantum", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_handshake_recv", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_handshake_done", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_flush", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_send_data", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_recv_data", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_close", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_end_of_input", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_remote_public_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_remote_fingerprint", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_int),
    ("ossuary_handshake_hash", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_dgram_new", [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint64], ctypes.c_void_p),
    ("ossuary_dgram_free", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_dgram_set_suite", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_dgram_set_service_label", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_dgram_set_address_validation", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_dgram_set_accept_early_data", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_dgram_set_allow_roaming", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_dgram_set_max_datagram_size", [ctypes.c_void_p, ctypes.c_size_t], ctypes.c_int),
    ("ossuary_dgram_set_max_connections", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_persistent_keepalive", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_max_connections_per_source", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_max_connections_per_peer", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_unused_timeout", [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_address_format", [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32], ctypes.c_int),
    ("ossuary_dgram_set_wall_clock", [ctypes.c_void_p, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_set_post_quantum", [ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
    ("ossuary_dgram_add_authorized_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_dgram_set_verify_callback", [ctypes.c_void_p, VERIFY_CALLBACK, ctypes.c_void_p], ctypes.c_int),
    ("ossuary_dgram_set_accept_any_peer", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_dgram_set_deferred_verification", [ctypes.c_void_p], ctypes.c_int),
    ("ossuary_dgram_connect", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_size_t, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
    ("ossuary_dgram_handle_datagram", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                       ctypes.c_size_t, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_poll_transmit", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _size_p, ctypes.c_char_p,
                                     ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_dgram_next_timeout", [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
    ("ossuary_dgram_handle_timeout", [ctypes.c_void_p, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_poll_event", [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
    ("ossuary_dgram_complete_verification", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_send", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_recv", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t, _size_p,
                            ctypes.POINTER(ctypes.c_int)], ctypes.c_int),
    ("ossuary_dgram_close", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint16, ctypes.c_uint64], ctypes.c_int),
    ("ossuary_dgram_max_payload_bytes", [ctypes.c_void_p], ctypes.c_size_t),
    ("ossuary_dgram_max_early_data_bytes", [ctypes.c_void_p], ctypes.c_size_t),
    ("ossuary_dgram_max_datagram_bytes", [ctypes.c_void_p], ctypes.c_size_t),
    ("ossuary_dgram_local_public_key", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_dgram_peer_public_key", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p], ctypes.c_int),
    ("ossuary_dgram_peer_fingerprint", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_int),
    ("ossuary_dgram_peer_address", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t, _size_p], ctypes.c_int),
    ("ossuary_dgram_statistic", [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
    ("ossuary_dgram_dropped", [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
    ("ossuary_dgram_drop_reason_name", [ctypes.c_int], ctypes.c_char_p),
    ("ossuary_dgram_conn_statistic", [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
]:
    _function = getattr(_lib, _name)
    _function.argtypes = _args
    _function.restype = _result


def _check(status):
    if status < 0:
        raise OssuaryError(status, _lib.ossuary_last_error().decode("utf-8", "replace"))
    return status


def version():
    return _lib.ossuary_version_string().decode()


def generate_keypair():
    """A new identity: (secret_key, public_key), 32 bytes each."""
    secret, public = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    _check(_lib.ossuary_generate_keypair(secret, public))
    return secret.raw, public.raw


def fingerprint(public_key):
    out = ctypes.create_string_buffer(40)
    _check(_lib.ossuary_fingerprint(_key(public_key), out, len(out)))
    return out.value.decode()


def public_key_to_text(public_key):
    out = ctypes.create_string_buffer(45)
    _check(_lib.ossuary_public_key_to_text(_key(public_key), out, len(out)))
    return out.value.decode()


def public_key_from_text(text):
    out = ctypes.create_string_buffer(32)
    _check(_lib.ossuary_public_key_from_text(text.encode(), out))
    return out.raw


def _verify_callback(verify):
    """A C verification callback calling verify(public_key, fingerprint, endpoint or None, peer_is_server) -> bool."""
    def trampoline(key, fp, endpoint_text, peer_is_server, _user):
        try:
            return 1 if verify(bytes(key[:32]), fp.decode(), endpoint_text.decode() if endpoint_text else None,
                               bool(peer_is_server)) else 0
        except Exception:  # an exception must not unwind through C
            return 0
    return VERIFY_CALLBACK(trampoline)


class _Owned:
    """A library handle freed by free() or at the end of a with block; _free_function says how."""
    _handle = None
    _free_function = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def free(self):
        """Wipes the handle's keys; it is unusable afterwards."""
        if self._handle:
            type(self)._free_function(self._handle)
            self._handle = None


def _key(key):
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise ValueError("keys are 32 bytes")
    return bytes(key)


class Connection(_Owned):
    """One end of a secure channel (sans-I/O). Use as a context manager, or call free()."""

    _free_function = _lib.ossuary_connection_free

    def __init__(self, role, secret_key, server_key=None, authorized_keys=(), accept_any=False, verify=None,
                 endpoint=None, known_hosts=None, tofu_accept=True, context=None, deferred_verification=False,
                 handshake_timeout_ms=None, post_quantum=None):
        self._handle = _lib.ossuary_connection_new(role)
        if not self._handle:
            _check(-102)
        self._out = ctypes.create_string_buffer(MAX_FRAME_BYTES * 4)
        self._plain = ctypes.create_string_buffer(MAX_FRAME_BYTES)
        _check(_lib.ossuary_set_secret_key(self._handle, _key(secret_key)))
        if server_key is not None:
            _check(_lib.ossuary_set_server_key(self._handle, _key(server_key)))
        for key in authorized_keys:
            _check(_lib.ossuary_add_authorized_key(self._handle, _key(key)))
        if endpoint is not None:
            _check(_lib.ossuary_set_endpoint(self._handle, endpoint.encode()))
        if context is not None:
            _check(_lib.ossuary_set_application_context(self._handle, context.encode()))
        if known_hosts is not None:
            _check(_lib.ossuary_set_known_hosts(self._handle, known_hosts.encode(), 0 if tofu_accept else 1))
        if accept_any:
            _check(_lib.ossuary_set_accept_any_peer(self._handle))
        if deferred_verification:
            # handshake_recv then returns NEEDS_VERIFICATION; judge remote_public_key, then complete_verification().
            _check(_lib.ossuary_set_deferred_verification(self._handle))
        if handshake_timeout_ms is not None:
            _check(_lib.ossuary_set_handshake_timeout(self._handle, handshake_timeout_ms))
        if post_quantum is not None:
            # PQ_PREFERRED or PQ_REQUIRED: the hybrid handshake; a server without it answers UNSUPPORTED_PATTERN.
            _check(_lib.ossuary_set_post_quantum(self._handle, post_quantum))
        self._callback = None
        if verify is not None:
            # The verifier gets (public_key, fingerprint, endpoint or None, peer_is_server) and returns a bool.
            self._callback = _verify_callback(verify)  # kept alive as long as the connection
            _check(_lib.ossuary_set_verify_callback(self._handle, self._callback, None))

    def take_output(self):
        """Everything queued to send (handshake messages, pongs, the close, alerts)."""
        chunks = []
        while True:
            written = ctypes.c_size_t()
            status = _check(_lib.ossuary_flush(self._handle, self._out, len(self._out), ctypes.byref(written)))
            chunks.append(self._out.raw[:written.value])
            if status != BUFFER_TOO_SMALL:
                return b"".join(chunks)

    def handshake_recv(self, data):
        """Feeds handshake bytes; returns (consumed, status)."""
        consumed = ctypes.c_size_t()
        status = _check(_lib.ossuary_handshake_recv(self._handle, bytes(data), len(data), ctypes.byref(consumed)))
        return consumed.value, status

    def complete_verification(self, accept):
        """The verdict after NEEDS_VERIFICATION; returns the status (OUTPUT_PENDING: take_output() has a message)."""
        return _check(_lib.ossuary_complete_verification(self._handle, 1 if accept else 0))

    @property
    def handshake_done(self):
        return _check(_lib.ossuary_handshake_done(self._handle)) == 1

    def send(self, data):
        """Seals plaintext; returns the bytes to transmit."""
        data = bytes(data)
        chunks, offset = [], 0
        while offset < len(data):
            consumed, written = ctypes.c_size_t(), ctypes.c_size_t()
            _check(_lib.ossuary_send_data(self._handle, data[offset:], len(data) - offset, ctypes.byref(consumed),
                                          self._out, len(self._out), ctypes.byref(written)))
            chunks.append(self._out.raw[:written.value])
            offset += consumed.value
        return b"".join(chunks)

    def recv(self, data):
        """Opens received bytes; returns (plaintext, consumed, peer_closed). Unconsumed bytes must be passed again."""
        data = bytes(data)
        plain, offset = [], 0
        while True:
            consumed, written = ctypes.c_size_t(), ctypes.c_size_t()
            status = _check(_lib.ossuary_recv_data(self._handle, data[offset:], len(data) - offset, ctypes.byref(consumed),
                                                   self._plain, len(self._plain), ctypes.byref(written)))
            offset += consumed.value
            plain.append(self._plain.raw[:written.value])
            if status in (NEED_MORE_INPUT, CLOSED) or (status == OUTPUT_PENDING and offset == len(data)):
                return b"".join(plain), offset, status == CLOSED
            if status == OUTPUT_PENDING:
                return b"".join(plain), offset, False

    def close(self):
        """Queues the authenticated close and returns the bytes to transmit."""
        _check(_lib.ossuary_close(self._handle))
        return self.take_output()

    def end_of_input(self):
        """The transport ended: fine after the peer's close, OssuaryError TRUNCATED otherwise."""
        _check(_lib.ossuary_end_of_input(self._handle))

    @property
    def remote_public_key(self):
        out = ctypes.create_string_buffer(32)
        _check(_lib.ossuary_remote_public_key(self._handle, out))
        return out.raw

    @property
    def remote_fingerprint(self):
        out = ctypes.create_string_buffer(40)
        _check(_lib.ossuary_remote_fingerprint(self._handle, out, len(out)))
        return out.value.decode()

    @property
    def handshake_hash(self):
        out, written = ctypes.create_string_buffer(64), ctypes.c_size_t()
        _check(_lib.ossuary_handshake_hash(self._handle, out, len(out), ctypes.byref(written)))
        return out.raw[:written.value]


class SecureSocket:
    """A Connection driven over a connected TCP socket: handshake on creation, then sendall/recv/shutdown_write."""

    def __init__(self, sock, connection):
        self.sock, self.connection = sock, connection
        self._pending = b""
        self._plain = b""
        self.peer_closed = False
        while not connection.handshake_done:
            sock.sendall(connection.take_output())
            if connection.handshake_done:
                break
            if not self._pending:
                data = sock.recv(65536)
                if not data:
                    connection.end_of_input()  # raises TRUNCATED
                self._pending = data
            try:
                consumed, _ = connection.handshake_recv(self._pending)
            except OssuaryError:
                sock.sendall(connection.take_output())  # the alert, so the peer learns why
                raise
            self._pending = self._pending[consumed:]
        sock.sendall(connection.take_output())

    @classmethod
    def connect(cls, host, port, **connection_options):
        sock = socket.create_connection((host, port))
        connection_options.setdefault("endpoint", f"{host}:{port}")
        return cls(sock, Connection(CLIENT, **connection_options))

    def sendall(self, data):
        self.sock.sendall(self.connection.send(data))

    def recv(self):
        """Some plaintext, or b"" once the peer has closed (authenticated)."""
        while not self._plain and not self.peer_closed:
            if not self._pending:
                data = self.sock.recv(65536)
                if not data:
                    self.connection.end_of_input()  # TRUNCATED unless the peer closed
                    self.peer_closed = True
                    break
                self._pending = data
            plain, consumed, closed = self.connection.recv(self._pending)
            self._pending = self._pending[consumed:]
            self._plain += plain
            self.peer_closed = closed
            output = self.connection.take_output()
            if output:
                self.sock.sendall(output)  # pongs
        data, self._plain = self._plain, b""
        return data

    def shutdown_write(self):
        self.sock.sendall(self.connection.close())
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.connection.free()
        self.sock.close()


class _Event(ctypes.Structure):
    _fields_ = [("conn", ctypes.c_uint64), ("kind", ctypes.c_int32), ("close_reason", ctypes.c_int32),
                ("peer_close_code", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


DatagramEvent = collections.namedtuple("DatagramEvent", "conn kind close_reason peer_close_code")
DatagramEvent.__doc__ = "An event of a DatagramEndpoint: kind is EVENT_*, close_reason CLOSE_* (for EVENT_CLOSED)."


def _now_ms():
    return int(time.monotonic() * 1000)


class DatagramEndpoint(_Owned):
    """Datagram mode, sans-I/O: one packet socket, many connections (ossuary.h, "datagram mode").

    Addresses are opaque bytes (1 to 64). Times are milliseconds of a monotonic clock: every now_ms defaults to
    time.monotonic(). Trust: authorized_keys, verify (a function of (public_key, fingerprint, address_hex,
    peer_is_server) returning a bool), accept_any, or deferred_verification (EVENT_VERIFICATION_REQUIRED, then
    complete_verification). Use as a context manager, or call free().
    """

    _free_function = _lib.ossuary_dgram_free

    def __init__(self, secret_key, accept_connections=False, authorized_keys=(), verify=None, accept_any=False,
                 deferred_verification=False, suite=None, service_label=None, address_validation=None,
                 accept_early_data=False, allow_roaming=None, max_datagram_size=None, max_connections=None,
                 persistent_keepalive_ms=None, wall_clock_unix_ms=None, post_quantum=None, now_ms=None,
                 max_connections_per_source=None, max_connections_per_peer=None, unused_timeout_ms=None,
                 address_format=None, ipv6_source_prefix_bits=0):
        self._handle = _lib.ossuary_dgram_new(_key(secret_key), 1 if accept_connections else 0,
                                              _now_ms() if now_ms is None else now_ms)
        if not self._handle:
            _check(-102)
        settings = [
            (suite, _lib.ossuary_dgram_set_suite),
            (service_label.encode() if service_label is not None else None, _lib.ossuary_dgram_set_service_label),
            (address_validation, _lib.ossuary_dgram_set_address_validation),
            (1 if accept_early_data else None, _lib.ossuary_dgram_set_accept_early_data),
            (None if allow_roaming is None else int(bool(allow_roaming)), _lib.ossuary_dgram_set_allow_roaming),
            (max_datagram_size, _lib.ossuary_dgram_set_max_datagram_size),
            (max_connections, _lib.ossuary_dgram_set_max_connections),
            (persistent_keepalive_ms, _lib.ossuary_dgram_set_persistent_keepalive),
            (max_connections_per_source, _lib.ossuary_dgram_set_max_connections_per_source),
            (max_connections_per_peer, _lib.ossuary_dgram_set_max_connections_per_peer),
            (unused_timeout_ms, _lib.ossuary_dgram_set_unused_timeout),
            (wall_clock_unix_ms, _lib.ossuary_dgram_set_wall_clock),
            (post_quantum, _lib.ossuary_dgram_set_post_quantum),  # after max_datagram_size: hybrid needs 1400
        ]
        try:
            for value, setter in settings:
                if value is not None:
                    _check(setter(self._handle, value))
            if ipv6_source_prefix_bits and address_format is None:
                raise ValueError("ipv6_source_prefix_bits groups socket addresses: it needs address_format=ADDRESS_SOCKADDR")
            if address_format is not None:
                _check(_lib.ossuary_dgram_set_address_format(self._handle, address_format, ipv6_source_prefix_bits))
            for key in authorized_keys:
                _check(_lib.ossuary_dgram_add_authorized_key(self._handle, _key(key)))
            if accept_any:
                _check(_lib.ossuary_dgram_set_accept_any_peer(self._handle))
            if deferred_verification:
                _check(_lib.ossuary_dgram_set_deferred_verification(self._handle))
            self._callback = None
            if verify is not None:
                self._callback = _verify_callback(verify)  # kept alive as long as the endpoint
                _check(_lib.ossuary_dgram_set_verify_callback(self._handle, self._callback, None))
        except Exception:
            self.free()
            raise
        self._packet = ctypes.create_string_buffer(_lib.ossuary_dgram_max_datagram_bytes(self._handle) or 65507)
        self._address = ctypes.create_string_buffer(MAX_ADDRESS_BYTES)
        self._payload = ctypes.create_string_buffer(65507)

    def connect(self, address, peer_key=None, early_data=b"", now_ms=None):
        """Starts a connection: IK with peer_key (early_data rides in the first packet), else XX. Returns its number."""
        conn = ctypes.c_uint64()
        early = bytes(early_data)
        _check(_lib.ossuary_dgram_connect(self._handle, bytes(address), len(address),
                                          None if peer_key is None else _key(peer_key), early or None, len(early),
                                          _now_ms() if now_ms is None else now_ms, ctypes.byref(conn)))
        return conn.value

    def handle_datagram(self, packet, address, now_ms=None):
        """One received packet and where it came from; bad packets are counted (dropped()), never raised."""
        packet = bytes(packet)
        _check(_lib.ossuary_dgram_handle_datagram(self._handle, packet or None, len(packet), bytes(address),
                                                  len(address), _now_ms() if now_ms is None else now_ms))

    def poll_transmit(self):
        """(packet, address) to send, or None."""
        n, alen = ctypes.c_size_t(), ctypes.c_size_t()
        if _check(_lib.ossuary_dgram_poll_transmit(self._handle, self._packet, len(self._packet), ctypes.byref(n),
                                                   self._address, len(self._address), ctypes.byref(alen))) != 1:
            return None
        return self._packet.raw[:n.value], self._address.raw[:alen.value]

    def transmits(self):
        """Every (packet, address) waiting to be sent."""
        while (item := self.poll_transmit()) is not None:
            yield item

    def next_timeout(self):
        """The time (ms) at which handle_timeout must be called, or None."""
        deadline = ctypes.c_uint64()
        return deadline.value if _check(_lib.ossuary_dgram_next_timeout(self._handle, ctypes.byref(deadline))) == 1 else None

    def handle_timeout(self, now_ms=None):
        _check(_lib.ossuary_dgram_handle_timeout(self._handle, _now_ms() if now_ms is None else now_ms))

    def poll_event(self):
        """The next DatagramEvent, or None."""
        event = _Event()
        if _check(_lib.ossuary_dgram_poll_event(self._handle, ctypes.byref(event))) != 1:
            return None
        return DatagramEvent(event.conn, event.kind, event.close_reason, event.peer_close_code)

    def events(self):
        while (event := self.poll_event()) is not None:
            yield event

    def complete_verification(self, conn, accept, now_ms=None):
        _check(_lib.ossuary_dgram_complete_verification(self._handle, conn, 1 if accept else 0,
                                                        _now_ms() if now_ms is None else now_ms))

    def send(self, conn, data, now_ms=None):
        """Seals one datagram: OK (sent), QUEUED (the handshake is running) or CLOSED (not sent)."""
        data = bytes(data)
        return _check(_lib.ossuary_dgram_send(self._handle, conn, data or None, len(data),
                                              _now_ms() if now_ms is None else now_ms))

    def recv(self, conn):
        """(datagram, flags) received on conn (flags: RECV_EARLY_DATA for replayable 0-RTT data), or None."""
        n, flags = ctypes.c_size_t(), ctypes.c_int()
        if _check(_lib.ossuary_dgram_recv(self._handle, conn, self._payload, len(self._payload), ctypes.byref(n),
                                          ctypes.byref(flags))) != 1:
            return None
        return self._payload.raw[:n.value], flags.value

    def close(self, conn, code=0, now_ms=None):
        _check(_lib.ossuary_dgram_close(self._handle, conn, code, _now_ms() if now_ms is None else now_ms))

    @property
    def max_payload_size(self):
        return _lib.ossuary_dgram_max_payload_bytes(self._handle)

    @property
    def max_early_data_size(self):
        return _lib.ossuary_dgram_max_early_data_bytes(self._handle)

    @property
    def local_public_key(self):
        out = ctypes.create_string_buffer(32)
        _check(_lib.ossuary_dgram_local_public_key(self._handle, out))
        return out.raw

    def peer_public_key(self, conn):
        out = ctypes.create_string_buffer(32)
        _check(_lib.ossuary_dgram_peer_public_key(self._handle, conn, out))
        return out.raw

    def peer_fingerprint(self, conn):
        out = ctypes.create_string_buffer(40)
        _check(_lib.ossuary_dgram_peer_fingerprint(self._handle, conn, out, len(out)))
        return out.value.decode()

    def peer_address(self, conn):
        n = ctypes.c_size_t()
        _check(_lib.ossuary_dgram_peer_address(self._handle, conn, self._address, len(self._address), ctypes.byref(n)))
        return self._address.raw[:n.value]

    def statistics(self):
        """The endpoint's counters by name (ENDPOINT_STATISTICS)."""
        value, result = ctypes.c_uint64(), {}
        for number, name in enumerate(ENDPOINT_STATISTICS, start=1):
            _check(_lib.ossuary_dgram_statistic(self._handle, number, ctypes.byref(value)))
            result[name] = value.value
        return result

    def dropped(self):
        """Packets dropped, by reason name ("Malformed", "AuthenticationFailed", ...)."""
        value, result = ctypes.c_uint64(), {}
        for reason in range(1, DROP_REASONS + 1):
            _check(_lib.ossuary_dgram_dropped(self._handle, reason, ctypes.byref(value)))
            result[_lib.ossuary_dgram_drop_reason_name(reason).decode()] = value.value
        return result

    def connection_statistics(self, conn):
        """One connection's counters by name (CONNECTION_STATISTICS)."""
        value, result = ctypes.c_uint64(), {}
        for number, name in enumerate(CONNECTION_STATISTICS, start=1):
            _check(_lib.ossuary_dgram_conn_statistic(self._handle, conn, number, ctypes.byref(value)))
            result[name] = value.value
        return result


class DatagramSocket:
    """A DatagramEndpoint driven over one UDP socket, single-threaded: call step() in a loop.

    Peer addresses are given to the endpoint as b"host|port" (the endpoint only compares them).
    """

    def __init__(self, endpoint, bind=("127.0.0.1", 0)):
        self.endpoint = endpoint
        self.sock = socket.socket(socket.AF_INET6 if ":" in bind[0] else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.sock.setblocking(False)

    @property
    def local_address(self):
        return self.sock.getsockname()[:2]

    @staticmethod
    def address(host, port):
        return f"{host}|{port}".encode()

    def connect(self, host, port, peer_key=None, early_data=b""):
        return self.endpoint.connect(self.address(host, port), peer_key, early_data)

    def flush(self):
        for packet, address in self.endpoint.transmits():
            host, port = address.decode().rsplit("|", 1)
            try:
                self.sock.sendto(packet, (host, int(port)))
            except (BlockingIOError, OSError):
                pass  # lost, as the network may lose it: the protocol's timers recover

    def step(self, timeout=0.05):
        """Sends what waits, waits up to timeout seconds (less if a timer is due) for packets, hands them over, runs
        the timers, sends again; returns the events that happened."""
        self.flush()
        deadline = self.endpoint.next_timeout()
        if deadline is not None:
            timeout = max(0.0, min(timeout, (deadline - _now_ms()) / 1000))
        readable, _, _ = select.select([self.sock], [], [], timeout)
        while readable:
            try:
                packet, sender = self.sock.recvfrom(65536)
            except BlockingIOError:
                break
            self.endpoint.handle_datagram(packet, self.address(*sender[:2]))
        self.endpoint.handle_timeout()
        self.flush()
        return list(self.endpoint.events())

    def close(self):
        self.endpoint.free()
        self.sock.close()
