namespace OssuaryNet.Tests;

/// <summary>
/// A reproducible client-to-server byte stream (deterministic keys): handshake, a few data records, then a close.
/// Replaying it into a fresh server with the same seed reproduces the original session exactly.
/// </summary>
internal sealed class Transcript
{
    private Transcript(byte[] bytes, byte[] plaintext, List<(int Start, int End, int PlaintextBefore)> frames, bool ik)
    {
        Bytes = bytes;
        Plaintext = plaintext;
        Frames = frames;
        Ik = ik;
    }

    public byte[] Bytes { get; }
    public byte[] Plaintext { get; }
    public bool Ik { get; }

    /// <summary>Each frame's byte range and how much plaintext the frames before it carry.</summary>
    public List<(int Start, int End, int PlaintextBefore)> Frames { get; }

    public static Transcript Record(bool ik, params byte[][] messages)
    {
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(pinServer: ik), ConnectionPair.ServerOptions());
        pair.Pump();
        foreach (byte[] message in messages)
        {
            pair.ClientSends(message);
        }
        pair.Client.Close();
        pair.Pump();
        byte[] bytes = pair.ClientToServerTranscript.ToArray();

        // Find frame boundaries and the plaintext each frame releases by replaying frame by frame.
        var frames = new List<(int, int, int)>();
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        int offset = 0, delivered = 0;
        byte[] plaintext = new byte[70000];
        while (offset < bytes.Length)
        {
            int end = offset + 2 + (bytes[offset] << 8 | bytes[offset + 1]);
            frames.Add((offset, end, delivered));
            server.Receive(bytes.AsSpan(offset, end - offset), plaintext, out _, out int written);
            server.VerifyPendingPeer();
            HandshakeTests.Drain(server);
            delivered += written;
            offset = end;
        }
        return new Transcript(bytes, messages.SelectMany(m => m).ToArray(), frames, ik);
    }

    /// <summary>Feeds <paramref name="input"/> to a fresh server in the given chunks; returns the plaintext, whether it closed cleanly, and any error.</summary>
    public static (byte[] Plaintext, bool Closed, OssuaryException? Error) Replay(byte[] input, IEnumerable<int> chunkSizes)
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        var received = new List<byte>();
        byte[] destination = new byte[70000];
        int offset = 0;
        try
        {
            foreach (int size in chunkSizes.Append(int.MaxValue))
            {
                int end = (int)Math.Min((long)offset + size, input.Length);
                ReadOnlySpan<byte> chunk = input.AsSpan(offset, end - offset);
                while (true)
                {
                    OssuaryStatus status = server.Receive(chunk, destination, out int consumed, out int written);
                    server.VerifyPendingPeer();
                    received.AddRange(destination.AsSpan(0, written));
                    chunk = chunk[consumed..];
                    HandshakeTests.Drain(server);
                    if (status is OssuaryStatus.NeedMoreInput or OssuaryStatus.Closed)
                    {
                        break;
                    }
                }
                offset = end;
                if (offset == input.Length)
                {
                    break;
                }
            }
            return (received.ToArray(), server.IsRemoteClosed, null);
        }
        catch (OssuaryException e)
        {
            return (received.ToArray(), server.IsRemoteClosed, e);
        }
    }
}
