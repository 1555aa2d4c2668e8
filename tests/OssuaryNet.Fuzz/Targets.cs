using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Tests;
using OssuaryNet.Trust;

namespace OssuaryNet.Fuzz;

/// <summary>
/// What the fuzzer feeds. Each target turns the input into calls on the parsers and lets only the typed failures
/// through: any other exception is a crash for afl-fuzz, and a hang is its timeout.
/// </summary>
internal static class Targets
{
    // Created on first use, never in a static initialiser: in an instrumented OssuaryNet.dll every method records its
    // coverage in afl's shared memory, which exists only once Fuzzer.OutOfProcess.Run has started.
    private static readonly Lazy<OssuaryKeyPair> Client = new(() => OssuaryKeyPair.FromPrivateKey(Enumerable.Repeat((byte)0x11, 32).ToArray()));
    private static readonly Lazy<OssuaryKeyPair> Server = new(() => OssuaryKeyPair.FromPrivateKey(Enumerable.Repeat((byte)0x22, 32).ToArray()));

    private static OssuaryKeyPair ClientKey => Client.Value;

    private static OssuaryKeyPair ServerKey => Server.Value;

    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["frames"] = Frames,
        ["extensions"] = Extensions,
        ["records"] = Records,
        ["datagrams"] = DatagramTarget.Run,
    };

    /// <summary>The fixed static keys of every target.</summary>
    internal static class Keys
    {
        public static OssuaryKeyPair Client => ClientKey;

        public static OssuaryKeyPair Server => ServerKey;
    }

    /// <summary>
    /// The frame parser and the first handshake message: the input is what a client sends to a server, delivered in
    /// chunks whose sizes come from the first byte, then the end of the stream.
    /// </summary>
    private static void Frames(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }
        int chunk = 1 + input[0];
        using var server = OssuaryConnection.CreateServer(ServerOptions());
        Typed(() =>
        {
            ReadOnlySpan<byte> rest = input.AsSpan(1);
            byte[] destination = new byte[1 + input[0] * 64];
            while (!rest.IsEmpty)
            {
                ReadOnlySpan<byte> piece = rest[..Math.Min(chunk, rest.Length)];
                server.Receive(piece, destination, out int consumed, out _);
                server.VerifyPendingPeer();
                rest = rest[consumed..];
                server.Send(default, new byte[70000], out _, out _);
                if (consumed == 0 && server.State != OssuaryConnectionState.Handshaking)
                {
                    break;
                }
            }
            server.CompleteInput();
        });
    }

    /// <summary>Handshake extension payloads, as they come out of a decrypted handshake message.</summary>
    private static void Extensions(byte[] input) => Typed(() => HandshakeExtensions.Decode(input));

    /// <summary>
    /// Record contents after decryption: the input is cut into records (a length byte, then that many bytes of inner
    /// plaintext), each sealed with the client's real sending key and given to an established server, so the fuzzer
    /// explores record types, control records, padding and limits rather than the AEAD.
    /// </summary>
    private static void Records(byte[] input)
    {
        var client = OssuaryConnection.CreateClient(ClientOptions());
        using var server = OssuaryConnection.CreateServer(ServerOptions());
        byte[] wire = new byte[70000];
        for (int i = 0; i < 3; i++)
        {
            client.Send(default, wire, out _, out int written);
            server.Receive(wire.AsSpan(0, written), default, out _, out _);
            server.VerifyPendingPeer();
            server.Send(default, wire, out _, out written);
            client.Receive(wire.AsSpan(0, written), default, out _, out _);
            client.VerifyPendingPeer();
        }
        NoiseTransport keys = client.TransportForTesting!;
        Typed(() =>
        {
            ReadOnlySpan<byte> rest = input;
            byte[] plaintext = new byte[70000];
            while (rest.Length > 0)
            {
                int length = Math.Min(rest[0], rest.Length - 1);
                ReadOnlySpan<byte> inner = rest.Slice(1, length);
                rest = rest[(1 + length)..];
                byte[] frame = new byte[2 + inner.Length + 16];
                frame[0] = (byte)((inner.Length + 16) >> 8);
                frame[1] = (byte)(inner.Length + 16);
                keys.Send.EncryptWithAd(default, inner, frame.AsSpan(2));
                server.Receive(frame, plaintext, out _, out _);
                server.VerifyPendingPeer();
                server.Send(default, wire, out _, out _);
            }
            server.CompleteInput();
        });
        client.Dispose();
    }

    /// <summary>Writes the seed corpora: valid inputs that reach deep into each target.</summary>
    public static void WriteSeeds(string directory)
    {
        void Write(string target, string name, byte[] bytes)
        {
            Directory.CreateDirectory(Path.Combine(directory, target));
            File.WriteAllBytes(Path.Combine(directory, target, name), bytes);
        }
        byte[] wire = new byte[70000];
        foreach (bool ik in new[] { false, true })
        {
            OssuaryClientOptions options = ClientOptions();
            options.ServerKey = ik ? ServerKey.PublicKey : null;
            options.ApplicationProtocols = ik ? ["demo/1"] : [];
            using var client = OssuaryConnection.CreateClient(options);
            client.Send(default, wire, out _, out int written);
            Write("frames", ik ? "ik-hello" : "xx-hello", [255, .. wire.AsSpan(0, written)]);
            Write("frames", ik ? "ik-hello-bytewise" : "xx-hello-bytewise", [0, .. wire.AsSpan(0, written)]);
        }
        Write("frames", "bad-magic", [255, 0, 10, (byte)'O', (byte)'S', (byte)'S', (byte)'X', 1, 1, 1, 0, 0, 0]);

        var extensions = new HandshakeExtensions { MaxRecordPayload = 4096, ApplicationProtocols = ["h2", "demo/1"], SelectedApplicationProtocol = "h2", EarlyData = new byte[] { 1, 2, 3 } };
        byte[] encoded = new byte[extensions.EncodedLength];
        extensions.Encode(encoded);
        Write("extensions", "all-known", encoded);
        Write("extensions", "unknown-even", [0x40, 0x10, 2, 0xAA, 0xBB]);

        Write("records", "data", [6, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 1]);
        Write("records", "ping-pong-padding", [5, 1, 2, 3, 4, 4, 4, 9, 8, 5, 0, 0, 0]);
        Write("records", "key-update-then-close", [1, 3, 3, 0x41, 1, 0, 1, 2]);

        foreach ((string name, byte[] input) in DatagramTarget.Seeds())
        {
            Write("datagrams", name, input);
        }
    }

    private static OssuaryClientOptions ClientOptions() => new()
    {
        StaticKeyPair = ClientKey,
        PeerVerifier = PeerVerifier.Pinned(ServerKey.PublicKey),
        EphemeralKeySource = key => key.Fill(0x33),
    };

    // Preferred: the server takes classical and hybrid first messages, so the fuzzer reaches the KEM paths too.
    private static OssuaryServerOptions ServerOptions() => new()
    {
        StaticKeyPair = ServerKey,
        PeerVerifier = PeerVerifier.Pinned(ClientKey.PublicKey),
        EphemeralKeySource = key => key.Fill(0x44),
        PostQuantum = OssuaryPostQuantum.Preferred,
    };

    private static void Typed(Action action)
    {
        try
        {
            action();
        }
        catch (OssuaryException e) when (Enum.IsDefined(e.ErrorCode) && e.ErrorCode != OssuaryErrorCode.InternalError)
        {
        }
    }
}
