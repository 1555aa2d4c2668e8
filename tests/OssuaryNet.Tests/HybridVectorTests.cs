using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// Our own Noise HFS vectors for others to check against (docs/vectors/noise-hfs.json): XXhfs and IKhfs in both
/// suites, in the cacophony layout plus the KEM seeds. This test regenerates them from fixed keys and seeds and fails
/// when the file differs; OSSUARY_UPDATE_DOCS=1 rewrites it after an intended change. It also replays the file from
/// its own fields alone, as an independent implementation would.
/// </summary>
public sealed class HybridVectorTests
{
    private static readonly string[] Protocols =
    [
        "Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b",
        "Noise_XXhfs_25519+MLKEM768_AESGCM_SHA256",
        "Noise_IKhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b",
        "Noise_IKhfs_25519+MLKEM768_AESGCM_SHA256",
    ];

    private static string VectorFile => Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "docs", "vectors", "noise-hfs.json");

    [Fact]
    public void ThePublishedVectorsAreWhatThisImplementationProduces()
    {
        string generated = Generate();
        if (Environment.GetEnvironmentVariable("OSSUARY_UPDATE_DOCS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(VectorFile)!);
            File.WriteAllText(VectorFile, generated);
        }
        Assert.True(File.Exists(VectorFile), $"{VectorFile} is missing (OSSUARY_UPDATE_DOCS=1 writes it)");
        Assert.Equal(File.ReadAllText(VectorFile), generated);
    }

    [Fact]
    public void EveryPublishedVectorReplaysFromItsOwnFields()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(VectorFile));
        int replayed = 0;
        foreach (JsonElement vector in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            NoiseProtocol protocol = NoiseProtocol.Parse(vector.GetProperty("protocol_name").GetString()!);
            var seeds = new FixedSeeds(Hex(vector, "init_kem_seed"), Hex(vector, "resp_encapsulation_seed"));
            using var initiator = new HandshakeState(protocol, true, Hex(vector, "init_prologue"), Hex(vector, "init_static"), Hex(vector, "init_remote_static"),
                ephemeralSource: Fixed(Hex(vector, "init_ephemeral")), kemSeeds: seeds);
            using var responder = new HandshakeState(protocol, false, Hex(vector, "resp_prologue"), Hex(vector, "resp_static"), default,
                ephemeralSource: Fixed(Hex(vector, "resp_ephemeral")), kemSeeds: seeds);
            JsonElement[] messages = [.. vector.GetProperty("messages").EnumerateArray()];
            NoiseTransport? initiatorTransport = null, responderTransport = null;
            try
            {
                for (int i = 0; i < messages.Length; i++)
                {
                    byte[] payload = Hex(messages[i], "payload"), expected = Hex(messages[i], "ciphertext");
                    byte[] wire = new byte[expected.Length], received = new byte[expected.Length];
                    bool fromInitiator = i % 2 == 0;
                    int length;
                    if (i < protocol.Pattern.Messages.Length)
                    {
                        (fromInitiator ? initiator : responder).WriteMessage(payload, wire);
                        length = (fromInitiator ? responder : initiator).ReadMessage(wire, received);
                        if (i == protocol.Pattern.Messages.Length - 1)
                        {
                            Assert.Equal(vector.GetProperty("handshake_hash").GetString(), Convert.ToHexStringLower(initiator.HandshakeHash));
                            initiatorTransport = initiator.Split();
                            responderTransport = responder.Split();
                        }
                    }
                    else
                    {
                        (fromInitiator ? initiatorTransport! : responderTransport!).Send.EncryptWithAd(default, payload, wire);
                        Assert.True((fromInitiator ? responderTransport! : initiatorTransport!).Receive.TryDecryptWithAd(default, wire, received, out length));
                    }
                    Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(wire));
                    Assert.Equal(payload, received[..length]);
                }
                replayed++;
            }
            finally
            {
                initiatorTransport?.Dispose();
                responderTransport?.Dispose();
            }
        }
        Assert.Equal(Protocols.Length, replayed);
    }

    /// <summary>The file's text: one vector per protocol, keys and seeds from fixed bytes, two transport messages each way.</summary>
    private static string Generate()
    {
        var vectors = new JsonArray();
        for (int index = 0; index < Protocols.Length; index++)
        {
            string name = Protocols[index];
            NoiseProtocol protocol = NoiseProtocol.Parse(name);
            bool ik = name.Contains("IKhfs", StringComparison.Ordinal);
            byte seedBase = (byte)(0x40 + 0x10 * index);
            byte[] initStatic = Fill(32, seedBase + 1), respStatic = Fill(32, seedBase + 2);
            byte[] initEphemeral = Fill(32, seedBase + 3), respEphemeral = Fill(32, seedBase + 4);
            byte[] kemSeed = Fill(MlKem768.KeyPairSeedSize, seedBase + 5), encapsulationSeed = Fill(MlKem768.EncapsulationSeedSize, seedBase + 6);
            byte[] prologue = Encoding.ASCII.GetBytes("OssuaryNet HFS vectors");
            byte[] respPublic = new byte[32];
            X25519.DerivePublicKey(respStatic, respPublic);
            var seeds = new FixedSeeds(kemSeed, encapsulationSeed);
            using var initiator = new HandshakeState(protocol, true, prologue, initStatic, ik ? respPublic : default, ephemeralSource: Fixed(initEphemeral), kemSeeds: seeds);
            using var responder = new HandshakeState(protocol, false, prologue, respStatic, default, ephemeralSource: Fixed(respEphemeral), kemSeeds: seeds);

            var messages = new JsonArray();
            string[] payloads = ik
                ? ["hybrid hello (under X25519 alone)", "hybrid reply", "transport one", "transport two"]
                : ["", "hybrid reply", "hybrid finish", "transport one", "transport two"];
            NoiseTransport? initiatorTransport = null, responderTransport = null;
            string handshakeHash = "";
            for (int i = 0; i < payloads.Length; i++)
            {
                byte[] payload = Encoding.ASCII.GetBytes(payloads[i]);
                bool fromInitiator = i % 2 == 0;
                byte[] wire;
                if (i < protocol.Pattern.Messages.Length)
                {
                    HandshakeState writer = fromInitiator ? initiator : responder;
                    wire = new byte[writer.GetMessageLength(payload.Length)];
                    writer.WriteMessage(payload, wire);
                    (fromInitiator ? responder : initiator).ReadMessage(wire, new byte[wire.Length]);
                    if (i == protocol.Pattern.Messages.Length - 1)
                    {
                        handshakeHash = Convert.ToHexStringLower(initiator.HandshakeHash);
                        initiatorTransport = initiator.Split();
                        responderTransport = responder.Split();
                    }
                }
                else
                {
                    wire = new byte[payload.Length + 16];
                    (fromInitiator ? initiatorTransport! : responderTransport!).Send.EncryptWithAd(default, payload, wire);
                }
                messages.Add(new JsonObject { ["payload"] = Convert.ToHexStringLower(payload), ["ciphertext"] = Convert.ToHexStringLower(wire) });
            }
            initiatorTransport?.Dispose();
            responderTransport?.Dispose();

            var vector = new JsonObject
            {
                ["protocol_name"] = name,
                ["init_prologue"] = Convert.ToHexStringLower(prologue),
                ["init_static"] = Convert.ToHexStringLower(initStatic),
                ["init_ephemeral"] = Convert.ToHexStringLower(initEphemeral),
                ["init_kem_seed"] = Convert.ToHexStringLower(kemSeed),
                ["resp_prologue"] = Convert.ToHexStringLower(prologue),
                ["resp_static"] = Convert.ToHexStringLower(respStatic),
                ["resp_ephemeral"] = Convert.ToHexStringLower(respEphemeral),
                ["resp_encapsulation_seed"] = Convert.ToHexStringLower(encapsulationSeed),
            };
            if (ik)
            {
                vector["init_remote_static"] = Convert.ToHexStringLower(respPublic);
            }
            vector["handshake_hash"] = handshakeHash;
            vector["messages"] = messages;
            vectors.Add(vector);
        }
        var root = new JsonObject
        {
            ["description"] = "Noise HFS (revision 1) with ML-KEM-768 as OssuaryNet implements it, for independent implementations to check against. " +
                "Cacophony layout; init_kem_seed is the FIPS 203 key generation seed d||z of the initiator's e1 key pair " +
                "(libsodium crypto_kem_mlkem768_seed_keypair), resp_encapsulation_seed the FIPS 203 message m of the responder's ekem1 " +
                "encapsulation (crypto_kem_mlkem768_enc_deterministic). Generated by tests/OssuaryNet.Tests/HybridVectorTests.cs.",
            ["vectors"] = vectors,
        };
        // Relaxed escaping keeps "+" and quotes readable; the file holds only ASCII.
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static byte[] Hex(JsonElement element, string field) =>
        element.TryGetProperty(field, out JsonElement value) ? Convert.FromHexString(value.GetString()!) : [];

    private static byte[] Fill(int length, int value) => Enumerable.Repeat((byte)value, length).ToArray();

    private static EphemeralKeySource Fixed(byte[] key) => destination => key.CopyTo(destination);

    private sealed class FixedSeeds(byte[] keyPairSeed, byte[] encapsulationSeed) : IKemSeedSource
    {
        public void KeyPairSeed(Span<byte> seed) => keyPairSeed.CopyTo(seed);

        public void EncapsulationSeed(Span<byte> seed) => encapsulationSeed.CopyTo(seed);
    }
}
