"""OssuaryNet from Python through libossuary.so (ctypes, standard library only).

The connection is the sans-I/O core: feed it received bytes, send what it gives you. `SecureSocket` drives one over
a TCP socket. The library is found through $OSSUARY_LIBRARY, else native/out/lib/libossuary.so in this checkout,
else the system's libossuary.so.1.
"""
import ctypes
import os
import socket

__all__ = ["OssuaryError", "Connection", "SecureSocket", "generate_keypair", "fingerprint",
           "public_key_from_text", "public_key_to_text", "version", "CLIENT", "SERVER"]

OK, NEED_MORE_INPUT, BUFFER_TOO_SMALL, OUTPUT_PENDING, CLOSED, HANDSHAKE_IN_PROGRESS = range(6)
NEEDS_VERIFICATION = 7  # 6 is retired
CLIENT, SERVER = 0, 1
MAX_FRAME_BYTES = 65537

ERRORS = {
    -1: "MALFORMED_FRAME", -2: "MALFORMED_HANDSHAKE", -3: "AUTHENTICATION_FAILED", -4: "UNEXPECTED_MESSAGE",
    -5: "UNSUPPORTED_VERSION", -6: "UNSUPPORTED_SUITE", -7: "UNSUPPORTED_PATTERN", -8: "UNSUPPORTED_EXTENSION",
    -9: "PEER_REJECTED", -10: "PEER_KEY_CHANGED", -11: "TRUNCATED", -12: "RECORD_TOO_LARGE", -13: "CLOSED",
    -14: "NONCE_EXHAUSTED", -15: "INVALID_KEY", -16: "KEY_FILE_PERMISSIONS", -17: "KEY_FILE_INVALID",
    -18: "NO_APPLICATION_PROTOCOL", -19: "EARLY_DATA_REJECTED", -20: "HANDSHAKE_TIMEOUT", -21: "INVALID_OPERATION",
    -22: "INTERNAL", -23: "IDLE_TIMEOUT", -100: "INVALID_HANDLE", -101: "NULL_POINTER", -102: "INVALID_ARGUMENT",
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


def _key(key):
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise ValueError("keys are 32 bytes")
    return bytes(key)


class Connection:
    """One end of a secure channel (sans-I/O). Use as a context manager, or call free()."""

    def __init__(self, role, secret_key, server_key=None, authorized_keys=(), accept_any=False, verify=None,
                 endpoint=None, known_hosts=None, tofu_accept=True, context=None, deferred_verification=False,
                 handshake_timeout_ms=None):
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
        self._callback = None
        if verify is not None:
            # The verifier gets (public_key, fingerprint, endpoint or None, peer_is_server) and returns a bool.
            def trampoline(key, fp, endpoint_text, peer_is_server, _user):
                try:
                    return 1 if verify(bytes(key[:32]), fp.decode(), endpoint_text.decode() if endpoint_text else None, bool(peer_is_server)) else 0
                except Exception:  # an exception must not unwind through C
                    return 0
            self._callback = VERIFY_CALLBACK(trampoline)  # kept alive as long as the connection
            _check(_lib.ossuary_set_verify_callback(self._handle, self._callback, None))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def free(self):
        if self._handle:
            _lib.ossuary_connection_free(self._handle)
            self._handle = None

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
