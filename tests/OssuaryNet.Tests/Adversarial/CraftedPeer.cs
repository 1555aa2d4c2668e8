using System.Buffers.Binary;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;

namespace OssuaryNet.Tests.Adversarial;

/// <summary>
/// A peer built straight on the Noise layer, which writes whatever a hostile implementation could: any payload in
/// any handshake message, any extension bytes, records of any type, size and padding, under any nonce. It plays
/// the client or the server against a real <see cref="OssuaryConnection"/>; every frame it makes is a complete
/// wire frame (u16 length and body).
/// </summary>
internal sealed class CraftedPeer : IDisposable
{
    private readonly HandshakeState _handshake;
    private NoiseTransport? _transport;

    private CraftedPeer(HandshakeState handshake, ClearHeader header)
    {
        _handshake = handshake;
        Header = header;
    }

    public ClearHeader Header { get; }

    public NoiseTransport Transport => _transport ?? throw new InvalidOperationException("The handshake is not finished.");

    /// <summary>A client of <paramref name="pattern"/>; IK pins <paramref name="serverKey"/> (the real server's by default).</summary>
    /// <param name="claimedStatic">A public key to send as this side's static key instead of the real one (e.g. a low-order point).</param>
    public static CraftedPeer Client(OssuaryHandshakePattern pattern, OssuarySuite suite = OssuarySuite.ChaChaPolyBlake2b,
        OssuaryKeyPair? staticKey = null, OssuaryPublicKey? serverKey = null, string context = "", byte[]? claimedStatic = null)
    {
        var header = new ClearHeader(WireFormat.Version, (byte)pattern, (byte)suite);
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        ReadOnlySpan<byte> pinned = pattern == OssuaryHandshakePattern.IK ? (serverKey ?? TestKeys.Server.PublicKey).Bytes : default;
        var handshake = new HandshakeState(Protocol(pattern, suite), initiator: true, Prologue.Write(header, context, prologue),
            (staticKey ?? TestKeys.Client).PrivateKey, pinned, ephemeralSource: TestKeys.Deterministic(9), localStaticPublicKey: claimedStatic);
        return new CraftedPeer(handshake, header);
    }

    /// <summary>A server answering a real client whose first frame body is <paramref name="clientHello"/>.</summary>
    /// <param name="claimedStatic">A public key to send as this side's static key instead of the real one.</param>
    public static CraftedPeer Server(ReadOnlySpan<byte> clientHello, OssuaryKeyPair? staticKey = null, string context = "", byte[]? claimedStatic = null)
    {
        ClearHeader header = ClearHeader.Parse(clientHello);
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        var handshake = new HandshakeState(Protocol((OssuaryHandshakePattern)header.Pattern, (OssuarySuite)header.Suite), initiator: false,
            Prologue.Write(header, context, prologue), (staticKey ?? TestKeys.Server).PrivateKey, default, ephemeralSource: TestKeys.Deterministic(8),
            localStaticPublicKey: claimedStatic);
        var peer = new CraftedPeer(handshake, header);
        peer.ReadMessage(clientHello[ClearHeader.Size..]);
        return peer;
    }

    public static NoiseProtocol Protocol(OssuaryHandshakePattern pattern, OssuarySuite suite) =>
        NoiseProtocol.Parse($"Noise_{pattern}_{(suite == OssuarySuite.ChaChaPolyBlake2b ? "25519_ChaChaPoly_BLAKE2b" : "25519_AESGCM_SHA256")}");

    /// <summary>The first frame: clear header and Noise message 1 with <paramref name="payload"/>.</summary>
    public byte[] FirstFrame(ReadOnlySpan<byte> payload)
    {
        byte[] header = new byte[ClearHeader.Size];
        Header.Write(header);
        return Frame(header, payload);
    }

    /// <summary>A later handshake frame: kind 0x00 and the next Noise message with <paramref name="payload"/>.</summary>
    public byte[] HandshakeFrame(ReadOnlySpan<byte> payload) => Frame([WireFormat.HandshakeMessageKind], payload);

    /// <summary>Reads a handshake frame body (after the kind byte or the header); returns the payload.</summary>
    public byte[] ReadMessage(ReadOnlySpan<byte> message)
    {
        byte[] payload = new byte[message.Length];
        int length = _handshake.ReadMessage(message, payload);
        SplitIfDone();
        return payload[..length];
    }

    /// <summary>A record frame: content, type, padding, sealed under the current sending key and nonce.</summary>
    public byte[] Record(byte type, ReadOnlySpan<byte> content, int padding = 0)
    {
        byte[] inner = new byte[content.Length + 1 + padding];
        content.CopyTo(inner);
        inner[content.Length] = type;
        byte[] frame = new byte[2 + inner.Length + WireFormat.TagSize];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(frame.Length - 2));
        Transport.Send.EncryptWithAd(default, inner, frame.AsSpan(2));
        return frame;
    }

    /// <summary>A record whose inner plaintext is exactly <paramref name="inner"/> (for inners with no type byte).</summary>
    public byte[] RawRecord(ReadOnlySpan<byte> inner)
    {
        byte[] frame = new byte[2 + inner.Length + WireFormat.TagSize];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(frame.Length - 2));
        Transport.Send.EncryptWithAd(default, inner, frame.AsSpan(2));
        return frame;
    }

    /// <summary>Opens a record frame body sent by the real peer; returns the inner plaintext, or null if it does not authenticate.</summary>
    public byte[]? Open(ReadOnlySpan<byte> body)
    {
        byte[] inner = new byte[body.Length - WireFormat.TagSize];
        return Transport.Receive.TryDecryptWithAd(default, body, inner, out _) ? inner : null;
    }

    /// <summary>Encodes extensions as (varint type, varint length, value) triples, in the order given.</summary>
    public static byte[] Extensions(params (ulong Type, byte[] Value)[] extensions)
    {
        var output = new List<byte>();
        Span<byte> number = stackalloc byte[8];
        foreach ((ulong type, byte[] value) in extensions)
        {
            output.AddRange(number[..VarInt.Write(type, number)].ToArray());
            output.AddRange(number[..VarInt.Write((ulong)value.Length, number)].ToArray());
            output.AddRange(value);
        }
        return [.. output];
    }

    /// <summary>A frame of exactly these body bytes.</summary>
    public static byte[] RawFrame(ReadOnlySpan<byte> body)
    {
        byte[] frame = new byte[2 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)body.Length);
        body.CopyTo(frame.AsSpan(2));
        return frame;
    }

    /// <summary>Splits a byte stream into frame bodies (the stream must hold whole frames).</summary>
    public static List<byte[]> Bodies(ReadOnlySpan<byte> stream)
    {
        var bodies = new List<byte[]>();
        while (stream.Length >= 2)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(stream);
            bodies.Add(stream.Slice(2, length).ToArray());
            stream = stream[(2 + length)..];
        }
        return bodies;
    }

    /// <summary>What a real connection emits now (its alert, if it has failed and owes one); empty if nothing.</summary>
    public static byte[] DrainOf(OssuaryConnection connection)
    {
        byte[] buffer = new byte[70000];
        try
        {
            connection.Send(default, buffer, out _, out int written);
            return buffer[..written];
        }
        catch (OssuaryException)
        {
            return [];
        }
    }

    /// <summary>Feeds <paramref name="input"/> to a real connection, which must fail; returns the failure.</summary>
    public static OssuaryException FailureOf(OssuaryConnection connection, byte[] input) =>
        Xunit.Assert.Throws<OssuaryException>(() => connection.Receive(input, new byte[70000], out _, out _));

    public void Dispose()
    {
        _handshake.Dispose();
        _transport?.Dispose();
    }

    private byte[] Frame(byte[] prefix, ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[_handshake.GetMessageLength(payload.Length)];
        _handshake.WriteMessage(payload, message);
        SplitIfDone();
        return RawFrame([.. prefix, .. message]);
    }

    private void SplitIfDone()
    {
        if (_handshake.IsComplete && _transport is null)
        {
            _transport = _handshake.Split();
        }
    }
}
