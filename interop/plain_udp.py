"""Plain (unencrypted) UDP for the cross-language tests in run-tests.sh, standard library only.

  plain_udp.py echo                  binds 127.0.0.1 on a free port, prints "echo on PORT", echoes datagrams until killed
  plain_udp.py send HOST PORT        sends stdin in 1000-byte datagrams, each with a sequence number and sent again
                                     every 200 ms until its echo returns; writes the echoed bytes to stdout
                                     (the same framing as interop/c/dgram_client.c)
"""
import socket
import struct
import sys
import time

CHUNK = 1000


def echo():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(f"echo on {sock.getsockname()[1]}", flush=True)
    while True:
        data, sender = sock.recvfrom(65536)
        sock.sendto(data, sender)


def send(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.2)
    target = (host, int(port))
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    deadline = time.monotonic() + 60
    for sequence, offset in enumerate(range(0, len(data), CHUNK), start=1):
        packet = struct.pack("<I", sequence) + data[offset:offset + CHUNK]
        while True:
            if time.monotonic() > deadline:
                sys.exit("no echo for 60 s")
            sock.sendto(packet, target)
            try:
                while True:
                    reply = sock.recv(65536)
                    if reply == packet:
                        break
            except socket.timeout:
                continue
            break
        out.write(packet[4:])
    out.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        echo()
    elif sys.argv[1:2] == ["send"] and len(sys.argv) == 4:
        send(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
