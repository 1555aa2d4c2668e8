"""Tests of the Python binding: keys, in-memory conversations, errors, and Python <-> C over loopback TCP and UDP.

The cross-language tests run the C programs from interop/c (paths in $OSSUARY_C_SERVER, $OSSUARY_C_DGRAM_SERVER and
$OSSUARY_C_DGRAM_CLIENT, default interop/c/build/server, dgram_server and dgram_client); if one is missing they fail,
they do not skip.
"""
import hashlib
import os
import re
import socket
import struct
import subprocess
import threading
import time
import unittest

import ossuary

HERE = os.path.dirname(os.path.abspath(__file__))
C_SERVER = os.environ.get("OSSUARY_C_SERVER", os.path.join(HERE, "..", "c", "build", "server"))
C_DGRAM_SERVER = os.environ.get("OSSUARY_C_DGRAM_SERVER", os.path.join(HERE, "..", "c", "build", "dgram_server"))
C_DGRAM_CLIENT = os.environ.get("OSSUARY_C_DGRAM_CLIENT", os.path.join(HERE, "..", "c", "build", "dgram_client"))
HEADER = os.path.join(HERE, "..", "..", "native", "include", "ossuary.h")


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

    def exchange_peers(self, server, peers):
        """Packets between a server and several peers [(endpoint, address)], each at its own address."""
        for _ in range(10):
            moved = 0
            for endpoint, address in peers:
                for packet, to in endpoint.transmits():
                    self.assertEqual(self.SERVER, to)
                    server.handle_datagram(packet, address, self.now)
                    moved += 1
            for packet, to in server.transmits():
                for endpoint, address in peers:
                    if address == to:
                        endpoint.handle_datagram(packet, self.SERVER, self.now)
                moved += 1
            if not moved:
                return

    @staticmethod
    def kinds(endpoint):
        return [e.kind for e in endpoint.events()]

    @staticmethod
    def sockaddr_in(ip, port):
        """A struct sockaddr_in as Linux lays it out (the library reads only its length and the address at offset 4)."""
        return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + bytes(8)

    @staticmethod
    def sockaddr_in6(ip, port):
        return struct.pack("=H", socket.AF_INET6) + struct.pack(">HI", port, 0) + socket.inet_pton(socket.AF_INET6, ip) + bytes(4)

    def test_the_new_constants_match_the_header(self):
        with open(HEADER) as header:
            defines = dict(re.findall(r"^#define OSSUARY_DGRAM_(\w+)\s+(-?\d+)U?\b", header.read(), re.M))
        for prefix in ("CLOSE_", "CODE_", "ADDRESS_", "EVENT_", "VALIDATE_"):
            names = [name for name in defines if name.startswith(prefix)]
            self.assertTrue(names, prefix)
            for name in names:
                self.assertEqual(int(defines[name]), getattr(ossuary, name), name)
        statistics = {name[len("STAT_"):].lower(): int(value) for name, value in defines.items() if name.startswith("STAT_")}
        self.assertEqual(statistics, {name: number for number, name in enumerate(ossuary.ENDPOINT_STATISTICS, start=1)})
        self.assertEqual(int(defines["DROP_REASONS"]), ossuary.DROP_REASONS)
        self.assertEqual((6, 7, 2, 3, 20), (ossuary.CLOSE_UNUSED, ossuary.CLOSE_EVICTED, ossuary.CODE_UNUSED, ossuary.CODE_EVICTED, ossuary.DROP_REASONS))

    def test_new_settings_drop_reasons_and_counters(self):
        for options in ({"max_connections_per_source": 0}, {"max_connections_per_source": 1}, {"max_connections_per_source": 2**32 - 1},
                        {"max_connections_per_peer": 0}, {"max_connections_per_peer": 1}, {"max_connections_per_peer": 2**32 - 1},
                        {"unused_timeout_ms": 0}, {"unused_timeout_ms": 1}, {"unused_timeout_ms": 86400000},
                        {"address_format": ossuary.ADDRESS_OPAQUE}, {"address_format": ossuary.ADDRESS_SOCKADDR},
                        {"address_format": ossuary.ADDRESS_SOCKADDR, "ipv6_source_prefix_bits": 1},
                        {"address_format": ossuary.ADDRESS_SOCKADDR, "ipv6_source_prefix_bits": 128}):
            with self.subTest(**options):
                self.endpoint(self.server_secret, accept_connections=True, accept_any=True, **options)
        for options in ({"unused_timeout_ms": 86400001}, {"unused_timeout_ms": 2**32 - 1}, {"address_format": 2},
                        {"address_format": -1}, {"address_format": ossuary.ADDRESS_SOCKADDR, "ipv6_source_prefix_bits": 129},
                        {"address_format": ossuary.ADDRESS_OPAQUE, "ipv6_source_prefix_bits": 2**32 - 1}):
            with self.subTest(**options):
                with self.assertRaises(ossuary.OssuaryError) as caught:
                    ossuary.DatagramEndpoint(self.server_secret, accept_connections=True, accept_any=True, **options)
                self.assertEqual("INVALID_ARGUMENT", caught.exception.name)

        server = self.endpoint(self.server_secret, accept_connections=True, accept_any=True)
        dropped = server.dropped()
        self.assertEqual(ossuary.DROP_REASONS, len(dropped))
        self.assertEqual((0, 0), (dropped["SourceLimit"], dropped["PeerLimit"]))
        self.assertEqual(["SourceLimit", "PeerLimit"], list(dropped)[-2:])
        stats = server.statistics()
        self.assertEqual((0, 0, 0), (stats["connections_evicted"], stats["connections_unused"], stats["handshakes_unconfirmed"]))
        # In use, the settings are fixed.
        server.handle_timeout(self.now)
        lib = ossuary._lib
        for result in (lib.ossuary_dgram_set_max_connections_per_source(server._handle, 1),
                       lib.ossuary_dgram_set_max_connections_per_peer(server._handle, 1),
                       lib.ossuary_dgram_set_unused_timeout(server._handle, 1000),
                       lib.ossuary_dgram_set_address_format(server._handle, ossuary.ADDRESS_SOCKADDR, 0)):
            self.assertEqual(-21, result)  # INVALID_OPERATION

    def test_an_ik_connection_is_made_by_the_first_packet_under_its_keys(self):
        server = self.endpoint(self.server_secret, accept_connections=True, authorized_keys=[self.client_public],
                               accept_early_data=True)
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, self.server_public, b"early", now_ms=self.now)
        [initiation] = list(client.transmits())
        server.handle_datagram(initiation[0], self.CLIENT, self.now)
        self.assertEqual([], self.kinds(server))  # answered, but no connection
        self.assertEqual((0, 1), (server.statistics()["connections"], server.statistics()["half_open_handshakes"]))
        [response] = list(server.transmits())
        client.handle_datagram(response[0], self.SERVER, self.now)
        self.assertEqual([ossuary.EVENT_CONNECTED], self.kinds(client))
        self.assertEqual(ossuary.OK, client.send(conn, b"first", now_ms=self.now))
        self.assertEqual([], self.kinds(server))  # nothing has arrived under the keys yet
        packets = list(client.transmits())  # the datagram (the initiator had nothing held, so first a keepalive)
        for packet, _ in packets[:-1]:
            server.handle_datagram(packet, self.CLIENT, self.now)
        accepted = self.first(server, ossuary.EVENT_ACCEPTED)
        self.assertIsNotNone(accepted)
        self.assertEqual((b"early", ossuary.RECV_EARLY_DATA), server.recv(accepted.conn))
        server.handle_datagram(packets[-1][0], self.CLIENT, self.now)
        self.assertEqual((b"first", 0), server.recv(accepted.conn))
        self.assertEqual((1, 0, 1), (server.statistics()["connections"], server.statistics()["half_open_handshakes"],
                                     server.statistics()["early_data_accepted"]))
        self.assertEqual(1, server.connection_statistics(accepted.conn)["early_data_used"])

    def test_an_ik_handshake_no_packet_confirms_ends_after_15_s(self):
        server = self.endpoint(self.server_secret, accept_connections=True, deferred_verification=True)
        client = self.endpoint(self.client_secret, accept_any=True)
        client.connect(self.SERVER, self.server_public, now_ms=self.now)
        start = self.now
        for packet, _ in client.transmits():
            server.handle_datagram(packet, self.CLIENT, self.now)
        asks = self.first(server, ossuary.EVENT_VERIFICATION_REQUIRED)
        server.complete_verification(asks.conn, True, now_ms=self.now)
        self.assertEqual(1, len(list(server.transmits())))  # the Response, lost
        events = []
        while not events and (deadline := server.next_timeout()) is not None and deadline < start + 20000:
            self.now = deadline
            server.handle_timeout(self.now)
            events = list(server.events())
        self.assertEqual([(asks.conn, ossuary.EVENT_CLOSED, ossuary.CLOSE_HANDSHAKE_TIMED_OUT)],
                         [(e.conn, e.kind, e.close_reason) for e in events])
        self.assertGreaterEqual(self.now - start, 15000)
        stats = server.statistics()
        self.assertEqual((1, 0, 0), (stats["handshakes_unconfirmed"], stats["connections"], stats["half_open_handshakes"]))

    def test_an_xx_initiator_is_connected_once_the_responder_let_it_in(self):
        server = self.endpoint(self.server_secret, accept_connections=True, deferred_verification=True)
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, now_ms=self.now)
        self.exchange(client, server)  # Initiation, Response, Finish
        asks = self.first(server, ossuary.EVENT_VERIFICATION_REQUIRED)
        self.assertNotIn(ossuary.EVENT_CONNECTED, self.kinds(client))
        self.assertEqual(0, client.connection_statistics(conn)["established"])
        held = [b"one", b"two", b"three"]
        for datagram in held:
            self.assertEqual(ossuary.QUEUED, client.send(conn, datagram, now_ms=self.now))
        self.assertEqual([], list(client.transmits()))
        server.complete_verification(asks.conn, True, now_ms=self.now)
        self.assertEqual(asks.conn, self.first(server, ossuary.EVENT_ACCEPTED).conn)
        self.assertNotIn(ossuary.EVENT_CONNECTED, self.kinds(client))  # not before the responder's keepalive arrives
        [keepalive] = list(server.transmits())
        client.handle_datagram(keepalive[0], self.SERVER, self.now)
        self.assertEqual(conn, self.first(client, ossuary.EVENT_CONNECTED).conn)
        self.exchange(client, server)
        self.assertEqual([(d, 0) for d in held], [server.recv(asks.conn) for _ in held])
        self.assertIsNone(server.recv(asks.conn))
        self.assertEqual(0, sum(server.dropped().values()))
        self.assertEqual(0, client.statistics()["queued_datagrams_dropped"])

    def second_source_admitted(self, first_address, second_address, **options):
        """A server holding one connection per source; the first client connects and sends a datagram, then the second
        connects. True if the second got its connection, False if it was dropped as SourceLimit."""
        other_secret, _ = ossuary.generate_keypair()
        server = self.endpoint(self.server_secret, accept_connections=True, accept_any=True, max_connections_per_source=1, **options)
        first, second = self.endpoint(self.client_secret, accept_any=True), self.endpoint(other_secret, accept_any=True)
        peers = [(first, first_address), (second, second_address)]
        conn = first.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange_peers(server, peers)
        accepted = self.first(server, ossuary.EVENT_ACCEPTED)
        first.send(conn, b"used", now_ms=self.now)
        self.exchange_peers(server, peers)
        self.assertEqual((b"used", 0), server.recv(accepted.conn))
        second.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange_peers(server, peers)
        made = ossuary.EVENT_ACCEPTED in self.kinds(server)
        self.assertEqual(made, ossuary.EVENT_CONNECTED in self.kinds(second))
        self.assertEqual(0 if made else 1, server.dropped()["SourceLimit"])
        self.assertEqual(2 if made else 1, server.statistics()["connections"])
        self.assertEqual(0, server.statistics()["connections_evicted"])
        return made

    def test_one_ip_is_one_source_with_socket_addresses(self):
        a, b = self.sockaddr_in("127.0.0.1", 4001), self.sockaddr_in("127.0.0.1", 4002)
        self.assertFalse(self.second_source_admitted(a, b, address_format=ossuary.ADDRESS_SOCKADDR))
        self.assertTrue(self.second_source_admitted(a, self.sockaddr_in("127.0.0.2", 4002), address_format=ossuary.ADDRESS_SOCKADDR))
        self.assertTrue(self.second_source_admitted(a, b))  # opaque, the default: every address its own source
        c, d = self.sockaddr_in6("2001:db8:1:2::1", 443), self.sockaddr_in6("2001:db8:1:2::2", 443)
        self.assertFalse(self.second_source_admitted(c, d, address_format=ossuary.ADDRESS_SOCKADDR))
        self.assertTrue(self.second_source_admitted(c, d, address_format=ossuary.ADDRESS_SOCKADDR, ipv6_source_prefix_bits=128))

    def test_a_refused_address_format_changes_nothing(self):
        server = self.endpoint(self.server_secret, accept_connections=True, accept_any=True, max_connections_per_source=1)
        self.assertEqual(-102, ossuary._lib.ossuary_dgram_set_address_format(server._handle, ossuary.ADDRESS_SOCKADDR, 129))
        a, b = self.sockaddr_in("127.0.0.1", 4001), self.sockaddr_in("127.0.0.1", 4002)
        other_secret, _ = ossuary.generate_keypair()
        first, second = self.endpoint(self.client_secret, accept_any=True), self.endpoint(other_secret, accept_any=True)
        peers = [(first, a), (second, b)]
        conn = first.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange_peers(server, peers)
        first.send(conn, b"used", now_ms=self.now)
        second.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange_peers(server, peers)
        self.assertEqual(2, self.kinds(server).count(ossuary.EVENT_ACCEPTED))  # still opaque: two sources
        self.assertEqual(0, server.dropped()["SourceLimit"])

    def test_a_second_connection_of_a_key_at_its_limit_is_dropped(self):
        server = self.endpoint(self.server_secret, accept_connections=True, accept_any=True, max_connections_per_peer=1)
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange(client, server)
        client.send(conn, b"used", now_ms=self.now)
        self.exchange(client, server)
        self.assertEqual(1, self.kinds(server).count(ossuary.EVENT_ACCEPTED))
        second = client.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange(client, server)
        self.assertNotIn(ossuary.EVENT_ACCEPTED, self.kinds(server))
        self.assertEqual((1, 0), (server.dropped()["PeerLimit"], server.dropped()["SourceLimit"]))
        self.assertEqual(0, client.connection_statistics(second)["established"])

    def unused_closed_after(self, **options):
        """Milliseconds after which a server closed an IK connection whose peer sent nothing (the peer told why), or
        None if it did not within 100 s."""
        server = self.endpoint(self.server_secret, accept_connections=True, accept_any=True, **options)
        client = self.endpoint(self.client_secret, accept_any=True)
        conn = client.connect(self.SERVER, self.server_public, now_ms=self.now)
        self.exchange(client, server)
        accepted = self.first(server, ossuary.EVENT_ACCEPTED)
        start = self.now
        while (deadline := server.next_timeout()) is not None and deadline <= start + 100000:
            self.now = deadline
            server.handle_timeout(self.now)
            closed = self.first(server, ossuary.EVENT_CLOSED)
            if closed:
                self.assertEqual((accepted.conn, ossuary.CLOSE_UNUSED), (closed.conn, closed.close_reason))
                self.assertEqual((1, 0), (server.statistics()["connections_unused"], server.statistics()["connections"]))
                self.exchange(client, server)
                told = self.first(client, ossuary.EVENT_CLOSED)
                self.assertEqual((conn, ossuary.CLOSE_BY_PEER, ossuary.CODE_UNUSED), (told.conn, told.close_reason, told.peer_close_code))
                return self.now - start
        self.assertEqual((0, 1), (server.statistics()["connections_unused"], server.statistics()["connections"]))
        return None

    def test_a_connection_its_peer_never_uses_is_closed_as_unused(self):
        self.assertEqual(60000, self.unused_closed_after())
        self.assertEqual(2500, self.unused_closed_after(unused_timeout_ms=2500))
        self.assertIsNone(self.unused_closed_after(unused_timeout_ms=0))

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

    def test_the_c_datagram_client_gives_up_where_nothing_answers(self):
        self.assertTrue(os.access(C_DGRAM_CLIENT, os.X_OK), f"the C datagram client is not built at {C_DGRAM_CLIENT}")
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read: a port where nothing answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        try:
            _, server_public = ossuary.generate_keypair()
            for key in ([], [ossuary.public_key_to_text(server_public)]):  # XX, then IK
                started = time.monotonic()
                run = subprocess.run([C_DGRAM_CLIENT, "--timeout", "1", "127.0.0.1", str(port), *key], input=b"hello\n",
                                     capture_output=True, timeout=30)
                elapsed = time.monotonic() - started
                lines = run.stderr.decode().splitlines()
                self.assertEqual(1, run.returncode, lines)
                self.assertEqual(b"", run.stdout)
                self.assertEqual(1, len(lines), lines)
                self.assertIn(f"no handshake with 127.0.0.1:{port} within 1 s", lines[0])
                self.assertTrue(0.9 < elapsed < 10, elapsed)
        finally:
            silent.close()
        run = subprocess.run([C_DGRAM_CLIENT, "--timeout", "soon", "127.0.0.1", str(port)], capture_output=True, timeout=30)
        self.assertEqual(2, run.returncode)
        self.assertIn("--timeout", run.stderr.decode())

    def test_python_datagram_client_c_server_first_contact(self):
        self.echo_through_c_server(pinned=False)

    def test_python_datagram_client_c_server_pinned(self):
        self.echo_through_c_server(pinned=True)


if __name__ == "__main__":
    unittest.main()
