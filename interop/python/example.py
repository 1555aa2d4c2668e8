"""Send a message to an ossuary server and print the reply: python3 example.py HOST PORT [SERVER_KEY]

With SERVER_KEY (base64, as `ossuary id` prints it) the key is pinned (IK); without it any server is accepted and its
fingerprint printed (first contact). Try it against `ossuary listen 7000` or interop/c/build/server 7000.
"""
import sys

import ossuary


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    secret, public = ossuary.generate_keypair()
    options = {"secret_key": secret}
    if len(sys.argv) > 3:
        options["server_key"] = ossuary.public_key_from_text(sys.argv[3])
    else:
        options["verify"] = lambda key, fp, endpoint, is_server: print(f"server fingerprint {fp}", file=sys.stderr) or True
    stream = ossuary.SecureSocket.connect(host, port, **options)
    print(f"connected: server {stream.connection.remote_fingerprint}, we are {ossuary.fingerprint(public)}", file=sys.stderr)
    stream.sendall(b"hello from python\n")
    stream.shutdown_write()
    while True:
        data = stream.recv()
        if not data:
            break
        sys.stdout.buffer.write(data)
    stream.close()


if __name__ == "__main__":
    main()
