"""Tests of the Python binding: keys, in-memory conversations, errors, and Python <-> C over loopback TCP.

The cross-language tests run the C server from interop/c (path in $OSSUARY_C_SERVER, default interop/c/build/server);
if it is missing they fail, they do not skip.
"""
import hashlib
import os
import re
import subprocess
import threading
import unittest

import ossuary

HERE = os.path.dirname(os.path.abspath(__file__))
C_SERVER = os.environ.get("OSSUARY_C_SERVER", os.path.join(HERE, "..", "c", "build", "server"))


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


if __name__ == "__main__":
    unittest.main()
