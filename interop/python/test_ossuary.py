"""Tests of the Python binding: keys, in-memory conversations, errors, and Python <-> C over loopback TCP and UDP.

The cross-language tests run the C servers from interop/c (paths in $OSSUARY_C_SERVER and $OSSUARY_C_DGRAM_SERVER,
default interop/c/build/server and dgram_server); if one is missing they fail, they do not skip.
"""
import hashlib
import os
import re
import subprocess
import threading
import time
import unittest

import ossuary

HERE = os.path.dirname(os.path.abspath(__file__))
C_SERVER = os.environ.get("OSSUARY_C_SERVER", os.path.join(HERE, "..", "c", "build", "server"))
C_DGRAM_SERVER = os.environ.get("OSSUARY_C_DGRAM_SERVER", os.path.join(HERE, "..", "c", "build", "dgram_server"))


def pump_handshake(client, server):
    for _ in range(10):
        to_server = client.take_output()
        if to_server:
            consumed, _ = server.handshake_recv(to_server)
            assert consumed == len(to_server)
        to_client = server.take_output()
        if to_client:
            consumed, _ = client.handshake_recv(to_client)
            assert consumed == len(to_client)
        if client.handshake_done and server.handshake_done:
            return
    raise AssertionError("handshake did not finish")


class KeyTests(unittest.TestCase):
    def test_keys_fingerprints_and_text(self):
        secret, public = ossuary.generate_keypair()
        self.assertEqual((32, 32), (len(secret), len(public)))
        self.assertRegex(ossuary.fingerprint(public), r"^([a-z2-7]{4}-){7}[a-z2-7]{4}$")
        text = ossuary.public_key_to_text(public)
        self.assertEqual(44, len(text))
        self.assertEqual(public, ossuary.public_key_from_text(text))
        self.assertEqual("1.2.0", ossuary.version())

    def test_invalid_key_text_is_a_typed_error(self):
        with self.assertRaises(ossuary.OssuaryError) as caught:
            ossuary.public_key_from_text("nope")
        self.assertEqual(-15, caught.exception.code)
        self.assertEqual("INVALID_KEY", caught.exception.name)


class ConversationTests(unittest.TestCase):
    def setUp(self):
        self.client_secret, self.client_public = ossuary.generate_keypair()
        self.server_secret, self.server_public = ossuary.generate_keypair()

    def pair(self, pin=True, **client_options):
        if pin:
            client_options.setdefault("server_key", self.server_public)
        client = ossuary.Connection(ossuary.CLIENT, self.client_secret, **client_options)
        server = ossuary.Connection(ossuary.SERVER, self.server_secret, authorized_keys=[self.client_public])
        return client, server

    def test_ik_conversation_both_ways_with_close(self):
        client, server = self.pair()
        with client, server:
            pump_handshake(client, server)
            self.assertEqual(self.server_public, client.remote_public_key)
            self.assertEqual(self.client_public, server.remote_public_key)
            self.assertEqual(client.handshake_hash, server.handshake_hash)
            message = os.urandom(200000)
            plain, consumed, closed = server.recv(client.send(message))
            self.assertEqual(message, plain)
            self.assertFalse(closed)
            plain, _, _ = client.recv(server.send(b"reply"))
            self.assertEqual(b"reply", plain)
            plain, _, closed = server.recv(client.close())
            self.assertEqual((b"", True), (plain, closed))
            server.end_of_input()

    def test_xx_with_a_python_verifier(self):
        seen = []
        client, server = self.pair(pin=False, endpoint="srv.example:1", verify=lambda key, fp, endpoint, is_server: seen.append((key, fp, endpoint, is_server)) or True)
        with client, server:
            pump_handshake(client, server)
            self.assertEqual([(self.server_public, ossuary.fingerprint(self.server_public), "srv.example:1", True)], seen)

    def test_deferred_verification_pauses_until_the_verdict(self):
        for accept in (True, False):
            client, server = self.pair(pin=False, deferred_verification=True)
            with client, server:
                server.handshake_recv(client.take_output())
                message2 = server.take_output()
                consumed, status = client.handshake_recv(message2)
                self.assertEqual((len(message2), ossuary.NEEDS_VERIFICATION), (consumed, status))
                self.assertEqual((0, ossuary.NEEDS_VERIFICATION), client.handshake_recv(b"more"))
                self.assertEqual(b"", client.take_output())
                self.assertEqual(self.server_public, client.remote_public_key)
                if accept:
                    self.assertEqual(ossuary.OUTPUT_PENDING, client.complete_verification(True))
                    server.handshake_recv(client.take_output())
                    self.assertTrue(client.handshake_done and server.handshake_done)
                else:
                    with self.assertRaises(ossuary.OssuaryError) as caught:
                        client.complete_verification(False)
                    self.assertEqual("PEER_REJECTED", caught.exception.name)
                    with self.assertRaises(ossuary.OssuaryError) as caught:
                        server.handshake_recv(client.take_output())
                    self.assertEqual("PEER_REJECTED", caught.exception.name)

    def test_a_rejecting_verifier_fails_the_handshake(self):
        client, server = self.pair(pin=False, verify=lambda *args: False)
        with client, server:
            with self.assertRaises(ossuary.OssuaryError) as caught:
                pump_handshake(client, server)
            self.assertEqual("PEER_REJECTED", caught.exception.name)

    def test_a_tampered_record_is_rejected_and_the_failure_sticks(self):
        client, server = self.pair()
        with client, server:
            pump_handshake(client, server)
            record = bytearray(client.send(b"secret"))
            record[-1] ^= 1
            for _ in range(2):
                with self.assertRaises(ossuary.OssuaryError) as caught:
                    server.recv(bytes(record))
                self.assertEqual(-3, caught.exception.code)

    def test_end_without_close_is_truncation(self):
        client, server = self.pair()
        with client, server:
            pump_handshake(client, server)
            server.recv(client.send(b"data"))
            with self.assertRaises(ossuary.OssuaryError) as caught:
                server.end_of_input()
            self.assertEqual("TRUNCATED", caught.exception.name)

    def test_a_freed_connection_is_refused(self):
        client, _ = self.pair()
        handle = client._handle
        client.free()
        client._handle = handle  # use the stale handle on purpose
        with self.assertRaises(ossuary.OssuaryError) as caught:
            client.take_output()
        self.assertEqual("INVALID_HANDLE", caught.exception.name)
        client._handle = None


class PythonAndCTests(unittest.TestCase):
    """Python clients against the C example server over loopback TCP, in both handshake modes."""

    @classmethod
    def setUpClass(cls):
        if not os.access(C_SERVER, os.X_OK):
            raise AssertionError(f"the C server is not built at {C_SERVER} (make -C interop/c)")

    def converse(self, pinned):
        from_server = os.urandom(300000)
        server = subprocess.Popen([C_SERVER, "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = server.stderr.readline().decode()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+) key (\S+) fingerprint (\S+)", line)
            self.assertIsNotNone(match, line)
            port, key_text, server_fingerprint = int(match.group(1)), match.group(2), match.group(3)
            secret, _ = ossuary.generate_keypair()
            options = {"server_key": ossuary.public_key_from_text(key_text)} if pinned else {"verify": lambda *args: True}
            stream = ossuary.SecureSocket.connect("127.0.0.1", port, secret_key=secret, **options)
            self.assertEqual(server_fingerprint, stream.connection.remote_fingerprint)
            output = []
            feeder = threading.Thread(target=lambda: (server.stdin.write(from_server), server.stdin.close()))
            reader = threading.Thread(target=lambda: output.append(server.stdout.read()))
            feeder.start()
            reader.start()
            to_server = os.urandom(500000)
            stream.sendall(to_server)
            stream.shutdown_write()
            received = b""
            while True:
                data = stream.recv()
                if not data:
                    break
                received += data
            stream.close()
            feeder.join(60)
            reader.join(60)
            self.assertEqual(0, server.wait(timeout=60), server.stderr.read().decode())
            out = output[0]
            self.assertEqual(hashlib.sha256(from_server).hexdigest(), hashlib.sha256(received).hexdigest())
            self.assertEqual(hashlib.sha256(to_server).hexdigest(), hashlib.sha256(out).hexdigest())
        finally:
            if server.poll() is None:
                server.kill()
            for pipe in (server.stdout, server.stderr):
                pipe.close()

    def test_python_client_c_server_first_contact(self):
        self.converse(pinned=False)

    def test_python_client_c_server_pinned(self):
        self.converse(pinned=True)


class PostQuantumTests(unittest.TestCase):
    def test_hybrid_handshake_in_both_patterns(self):
        client_secret, client_public = ossuary.generate_keypair()
        server_secret, server_public = ossuary.generate_keypair()
        for pin in (False, True):
            options = {"server_key": server_public} if pin else {"accept_any": True}
            with ossuary.Connection(ossuary.CLIENT, client_secret, post_quantum=ossuary.PQ_REQUIRED, **options) as client, \
                    ossuary.Connection(ossuary.SERVER, server_secret, authorized_keys=[client_public],
                                       post_quantum=ossuary.PQ_PREFERRED) as server:
                first = client.take_output()
                self.assertGreater(len(first), 1184)  # the ML-KEM-768 key rides in the first message
                consumed, _ = server.handshake_recv(first)
                self.assertEqual(len(first), consumed)
                pump_handshake(client, server)
                self.assertEqual(client.handshake_hash, server.handshake_hash)

    def test_a_classical_server_refuses_the_hybrid_offer(self):
        client_secret, _ = ossuary.generate_keypair()
        server_secret, server_public = ossuary.generate_keypair()
        with ossuary.Connection(ossuary.CLIENT, client_secret, server_key=server_public, post_quantum=ossuary.PQ_PREFERRED) as client, \
                ossuary.Connection(ossuary.SERVER, server_secret, accept_any=True) as server:
            with self.assertRaises(ossuary.OssuaryError) as caught:
                server.handshake_recv(client.take_output())
            self.assertEqual("UNSUPPORTED_PATTERN", caught.exception.name)
            with self.assertRaises(ossuary.OssuaryError) as caught:
                client.handshake_recv(server.take_output())
            self.assertEqual("UNSUPPORTED_PATTERN", caught.exception.name)


class DatagramTests(unittest.TestCase):
    """The datagram endpoint in memory: two endpoints, packets moved by the test, time given by the test."""

    CLIENT, SERVER = b"client:1", b"server:7"

    def setUp(self):
        self.client_secret, self.client_public = ossuary.generate_keypair()
        self.server_secret, self.server_public = ossuary.generate_keypair()
        self.now = 1000
        self.endpoints = []

    def tearDown(self):
        for endpoint in self.endpoints:
            endpoint.free()

    def endpoint(self, secret, **options):
        endpoint = ossuary.DatagramEndpoint(secret, now_ms=self.now, **options)
        self.endpoints.append(endpoint)
        return endpoint

    def exchange(self, client, server, tamper=None):
        for _ in range(10):
            moved = 0
            for packet, address in client.transmits():
                self.assertEqual(self.SERVER, address)
                server.handle_datagram(tamper(packet) if tamper else packet, self.CLIENT, self.now)
                moved += 1
            for packet, address in server.transmits():
                self.assertEqual(self.CLIENT, address)
                client.handle_datagram(packet, self.SERVER, self.now)
                moved += 1
            if not moved:
                return

    @staticmethod
    def first(endpoint, kind):
        return next((e for e in endpoint.events() if e.kind == kind), None)

    def test_ik_with_early_data_datagrams_both_ways_and_close(self):
        server = self.endpoint(self.server_secret, accept_connections=True, authorized_keys=[self.client_public],
                               accept_early_data=True)
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, self.server_public, b"0-rtt", now_ms=self.now)
        self.assertEqual(ossuary.QUEUED, client.send(conn, b"after", now_ms=self.now))
        self.exchange(client, server)
        accepted = self.first(server, ossuary.EVENT_ACCEPTED)
        self.assertIsNotNone(accepted)
        self.assertEqual(conn, self.first(client, ossuary.EVENT_CONNECTED).conn)
        self.assertEqual((b"0-rtt", ossuary.RECV_EARLY_DATA), server.recv(accepted.conn))
        self.assertEqual((b"after", 0), server.recv(accepted.conn))
        self.assertIsNone(server.recv(accepted.conn))

        largest = os.urandom(client.max_payload_size)
        self.assertEqual(ossuary.OK, server.send(accepted.conn, largest, now_ms=self.now))
        self.exchange(client, server)
        self.assertEqual((largest, 0), client.recv(conn))
        with self.assertRaises(ossuary.OssuaryError) as caught:
            client.send(conn, largest + b"x", now_ms=self.now)
        self.assertEqual("RECORD_TOO_LARGE", caught.exception.name)

        self.assertEqual(self.client_public, server.peer_public_key(accepted.conn))
        self.assertEqual(ossuary.fingerprint(self.server_public), client.peer_fingerprint(conn))
        self.assertEqual(self.CLIENT, server.peer_address(accepted.conn))
        self.assertEqual(self.client_public, client.local_public_key)
        info = client.connection_statistics(conn)
        self.assertEqual((1, 1, 2), (info["established"], info["initiator"], info["pattern"]))
        self.assertGreaterEqual(info["bytes_in"], len(largest))
        stats = server.statistics()
        self.assertEqual((1, 1, 1), (stats["handshakes_completed"], stats["early_data_accepted"], stats["connections"]))
        self.assertEqual(0, sum(server.dropped().values()))

        client.close(conn, code=7, now_ms=self.now)
        self.exchange(client, server)
        closed = self.first(server, ossuary.EVENT_CLOSED)
        self.assertEqual((accepted.conn, ossuary.CLOSE_BY_PEER, 7), (closed.conn, closed.close_reason, closed.peer_close_code))
        self.assertEqual(ossuary.CLOSED, server.send(accepted.conn, b"late", now_ms=self.now))

    def test_xx_with_deferred_verdicts_on_both_sides(self):
        server = self.endpoint(self.server_secret, accept_connections=True, deferred_verification=True)
        client = self.endpoint(self.client_secret, deferred_verification=True)
        conn = client.connect(self.SERVER, now_ms=self.now)
        self.exchange(client, server)
        self.assertEqual(conn, self.first(client, ossuary.EVENT_VERIFICATION_REQUIRED).conn)
        self.assertEqual(self.server_public, client.peer_public_key(conn))
        client.complete_verification(conn, True, now_ms=self.now)
        self.exchange(client, server)
        asks = self.first(server, ossuary.EVENT_VERIFICATION_REQUIRED)
        self.assertEqual(self.client_public, server.peer_public_key(asks.conn))
        server.complete_verification(asks.conn, True, now_ms=self.now)
        self.exchange(client, server)
        self.assertEqual(conn, self.first(client, ossuary.EVENT_CONNECTED).conn)
        self.assertEqual(1, client.connection_statistics(conn)["pattern"])

    def test_a_callback_refusal_makes_no_connection(self):
        seen = []
        server = self.endpoint(self.server_secret, accept_connections=True,
                               verify=lambda key, fp, address_hex, is_server: seen.append((key, address_hex, is_server)) or False)
        client = self.endpoint(self.client_secret, accept_any=True)
        client.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange(client, server)
        self.assertEqual([(self.client_public, self.CLIENT.hex().upper(), False)], seen)
        self.assertIsNone(self.first(server, ossuary.EVENT_ACCEPTED))
        self.assertEqual(1, server.statistics()["handshakes_rejected"])

    def test_tampered_packets_are_dropped_counted_and_deliver_nothing(self):
        server = self.endpoint(self.server_secret, accept_connections=True, authorized_keys=[self.client_public])
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange(client, server)
        accepted = self.first(server, ossuary.EVENT_ACCEPTED)
        client.send(conn, b"genuine", now_ms=self.now)

        def flip_last_byte(packet):
            return packet[:-1] + bytes([packet[-1] ^ 1])
        self.exchange(client, server, tamper=flip_last_byte)
        self.assertIsNone(server.recv(accepted.conn))
        self.assertEqual(1, server.dropped()["AuthenticationFailed"])
        self.assertEqual(1, server.connection_statistics(accepted.conn)["established"])

    def test_time_drives_retransmission_and_give_up(self):
        client = self.endpoint(self.client_secret, accept_any=True)
        self.assertIsNone(client.next_timeout())
        conn = client.connect(self.SERVER, self.server_public, now_ms=self.now)
        first = [packet for packet, _ in client.transmits()]
        deadline = client.next_timeout()
        self.assertGreater(deadline, self.now)
        client.handle_timeout(deadline)
        self.assertEqual(first, [packet for packet, _ in client.transmits()])
        while (deadline := client.next_timeout()) is not None:
            client.handle_timeout(deadline)
            list(client.transmits())
        closed = self.first(client, ossuary.EVENT_CLOSED)
        self.assertEqual((conn, ossuary.CLOSE_HANDSHAKE_TIMED_OUT), (closed.conn, closed.close_reason))

    def test_caller_mistakes_are_typed_errors(self):
        with self.assertRaises(ossuary.OssuaryError) as caught:
            ossuary.DatagramEndpoint(self.client_secret, max_datagram_size=100)
        self.assertEqual("INVALID_ARGUMENT", caught.exception.name)
        lonely = self.endpoint(self.client_secret)
        with self.assertRaises(ossuary.OssuaryError) as caught:
            lonely.connect(self.SERVER, self.server_public)
        self.assertEqual("INVALID_OPERATION", caught.exception.name)
        client = self.endpoint(self.client_secret, accept_any=True)
        with self.assertRaises(ossuary.OssuaryError) as caught:
            client.peer_public_key(99)
        self.assertEqual("INVALID_HANDLE", caught.exception.name)
        with self.assertRaises(ossuary.OssuaryError) as caught:
            client.connect(b"", self.server_public)
        self.assertEqual("INVALID_ARGUMENT", caught.exception.name)
        client.free()
        with self.assertRaises(ossuary.OssuaryError) as caught:
            client.statistics()
        self.assertEqual("INVALID_HANDLE", caught.exception.name)


class DatagramUdpTests(unittest.TestCase):
    """Python's DatagramSocket against the C datagram echo server over loopback UDP."""

    @classmethod
    def setUpClass(cls):
        if not os.access(C_DGRAM_SERVER, os.X_OK):
            raise AssertionError(f"the C datagram server is not built at {C_DGRAM_SERVER} (make -C interop/c)")

    def echo_through_c_server(self, pinned):
        server = subprocess.Popen([C_DGRAM_SERVER, "0", "--once"], stderr=subprocess.PIPE)
        try:
            line = server.stderr.readline().decode()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+) key (\S+)", line)
            self.assertIsNotNone(match, line)
            port, server_key = int(match.group(1)), ossuary.public_key_from_text(match.group(2))
            secret, _ = ossuary.generate_keypair()
            endpoint = ossuary.DatagramEndpoint(secret, **({"authorized_keys": [server_key]} if pinned else {"accept_any": True}))
            udp = ossuary.DatagramSocket(endpoint)
            conn = udp.connect("127.0.0.1", port, server_key if pinned else None)
            sent = [os.urandom(1 + i % endpoint.max_payload_size) for i in range(200)]
            echoed, pending, deadline = [], list(sent), time.monotonic() + 30
            connected = False
            while len(echoed) < len(sent) and time.monotonic() < deadline:
                for event in udp.step(0.2):
                    connected |= event.kind == ossuary.EVENT_CONNECTED
                    self.assertNotEqual(ossuary.EVENT_CLOSED, event.kind)
                if connected and pending:  # a window of 16 in flight; UDP on loopback rarely loses one
                    while pending and len(pending) > len(sent) - len(echoed) - 16:
                        endpoint.send(conn, pending.pop(0))
                while (item := endpoint.recv(conn)) is not None:
                    echoed.append(item[0])
            self.assertEqual(self.server_fingerprint(endpoint, conn), endpoint.peer_fingerprint(conn))
            self.assertEqual(hashlib.sha256(b"".join(sent)).hexdigest(), hashlib.sha256(b"".join(echoed)).hexdigest())
            self.assertEqual(2 if pinned else 1, endpoint.connection_statistics(conn)["pattern"])
            endpoint.close(conn)
            udp.flush()
            self.assertEqual(0, server.wait(timeout=10))
            udp.close()
        finally:
            if server.poll() is None:
                server.kill()
            server.stderr.close()

    @staticmethod
    def server_fingerprint(endpoint, conn):
        return ossuary.fingerprint(endpoint.peer_public_key(conn))

    def test_python_datagram_client_c_server_first_contact(self):
        self.echo_through_c_server(pinned=False)

    def test_python_datagram_client_c_server_pinned(self):
        self.echo_through_c_server(pinned=True)


if __name__ == "__main__":
    unittest.main()
