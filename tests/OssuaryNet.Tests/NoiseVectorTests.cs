using System.Text.Json;
using OssuaryNet.Noise;
using Xunit;
using Xunit.Abstractions;

namespace OssuaryNet.Tests;

/// <summary>
/// Replays the public Noise test vectors (cacophony, snow, noise-c; see Vectors/README.md): every handshake
/// message, transport message and final handshake hash must match byte for byte, in both directions.
/// </summary>
public sealed class NoiseVectorTests(ITestOutputHelper output)
{
    /// <summary>Where the vectors are read from: $OSSUARY_NOISE_VECTORS, else the copy shipped with the tests.</summary>
    private static string VectorPath =>
        Environment.GetEnvironmentVariable("OSSUARY_NOISE_VECTORS") is { Length: > 0 } path
            ? path
            : Path.Combine(AppContext.BaseDirectory, "Vectors", "public.json");

    [Fact]
    public void EverySupportedPublicVectorMatches()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(VectorPath));
        var failures = new List<string>();
        int passed = 0, skipped = 0;
        foreach (JsonElement vector in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            string name = vector.GetProperty("protocol_name").GetString()!;
            NoiseProtocol initiatorProtocol, responderProtocol;
            try
            {
                initiatorProtocol = NoiseProtocol.Parse(name);
                responderProtocol = NoiseProtocol.Parse(name);
            }
            catch (OssuaryException e) when (e.ErrorCode is OssuaryErrorCode.UnsupportedPattern or OssuaryErrorCode.UnsupportedSuite)
            {
                skipped++;
                output.WriteLine($"skipped (unsupported): {name}");
                continue;
            }
            Assert.Equal(name, initiatorProtocol.Name);
            try
            {
                Replay(vector, initiatorProtocol, responderProtocol);
                passed++;
            }
            catch (Exception e)
            {
                failures.Add($"{name} ({vector.GetProperty("source").GetString()}): {e.Message}");
            }
        }
        string summary = $"noise vectors: {passed} passed, {skipped} skipped (unsupported)";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(passed > 0, "no vector was run");
        // Every protocol in the shipped file is supported; a skip would mean a regression, not a choice.
        if (Environment.GetEnvironmentVariable("OSSUARY_NOISE_VECTORS") is not { Length: > 0 })
        {
            Assert.Equal(0, skipped);
        }
    }

    private static void Replay(JsonElement vector, NoiseProtocol initiatorProtocol, NoiseProtocol responderProtocol)
    {
        using var initiator = new HandshakeState(
            initiatorProtocol, initiator: true, Hex(vector, "init_prologue"), Hex(vector, "init_static"),
            Hex(vector, "init_remote_static"), Psks(vector, "init_psks"), Fixed(Hex(vector, "init_ephemeral")));
        using var responder = new HandshakeState(
            responderProtocol, initiator: false, Hex(vector, "resp_prologue"), Hex(vector, "resp_static"),
            Hex(vector, "resp_remote_static"), Psks(vector, "resp_psks"), Fixed(Hex(vector, "resp_ephemeral")));

        JsonElement[] messages = vector.GetProperty("messages").EnumerateArray().ToArray();
        int handshakeLength = initiatorProtocol.Pattern.Messages.Length;
        NoiseTransport? initiatorTransport = null, responderTransport = null;
        try
        {
            for (int i = 0; i < messages.Length; i++)
            {
                byte[] payload = Convert.FromHexString(messages[i].GetProperty("payload").GetString()!);
                byte[] expected = Convert.FromHexString(messages[i].GetProperty("ciphertext").GetString()!);
                bool fromInitiator = i % 2 == 0;
                byte[] wire = new byte[expected.Length + 64];
                byte[] received = new byte[expected.Length + 64];
                int written, read;
                if (i < handshakeLength)
                {
                    HandshakeState writer = fromInitiator ? initiator : responder;
                    HandshakeState reader = fromInitiator ? responder : initiator;
                    Assert.Equal(expected.Length, writer.GetMessageLength(payload.Length));
                    written = writer.WriteMessage(payload, wire);
                    read = reader.ReadMessage(wire.AsSpan(0, written), received);
                    if (i == handshakeLength - 1)
                    {
                        if (vector.TryGetProperty("handshake_hash", out JsonElement hash))
                        {
                            Assert.Equal(hash.GetString(), Convert.ToHexStringLower(initiator.HandshakeHash));
                            Assert.Equal(hash.GetString(), Convert.ToHexStringLower(responder.HandshakeHash));
                        }
                        initiatorTransport = initiator.Split();
                        responderTransport = responder.Split();
                    }
                }
                else
                {
                    CipherState sender = fromInitiator ? initiatorTransport!.Send : responderTransport!.Send;
                    CipherState receiver = fromInitiator ? responderTransport!.Receive : initiatorTransport!.Receive;
                    written = sender.EncryptWithAd(default, payload, wire);
                    Assert.True(receiver.TryDecryptWithAd(default, wire.AsSpan(0, written), received, out read), $"message {i} did not decrypt");
                }
                Assert.True(expected.AsSpan().SequenceEqual(wire.AsSpan(0, written)), $"message {i} ciphertext differs");
                Assert.True(payload.AsSpan().SequenceEqual(received.AsSpan(0, read)), $"message {i} payload differs");
            }
        }
        finally
        {
            initiatorTransport?.Dispose();
            responderTransport?.Dispose();
        }
    }

    private static byte[] Hex(JsonElement vector, string field) =>
        vector.TryGetProperty(field, out JsonElement value) ? Convert.FromHexString(value.GetString()!) : [];

    private static List<byte[]> Psks(JsonElement vector, string field) =>
        vector.TryGetProperty(field, out JsonElement value)
            ? value.EnumerateArray().Select(p => Convert.FromHexString(p.GetString()!)).ToList()
            : [];

    private static EphemeralKeySource Fixed(byte[] key) => destination =>
    {
        Assert.Equal(32, key.Length);
        key.CopyTo(destination);
    };
}
