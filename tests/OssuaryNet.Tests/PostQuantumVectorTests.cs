using System.Text.Json;
using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// Replays the five public Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256 vectors (Vectors/pq/README.md: source,
/// licence, and how each field was made): both sides with the vectors' fixed X25519 keys, ML-KEM keys from the seeds
/// and the fixed encapsulation seed must reproduce every message, the handshake hash and both split keys byte for byte.
/// </summary>
public sealed class PostQuantumVectorTests
{
    private static readonly string VectorFile = Path.Combine(AppContext.BaseDirectory, "Vectors", "pq", "xxhfs-mlkem768.json");

    public static TheoryData<int> VectorIndexes() => [1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(VectorIndexes))]
    public void PublishedXXhfsVectorIsReproducedByteForByte(int index)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(VectorFile));
        Assert.Equal("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256", document.RootElement.GetProperty("protocol").GetString());
        JsonElement vector = document.RootElement.GetProperty("vectors").EnumerateArray().Single(v => v.GetProperty("vector_index").GetInt32() == index);
        byte seedBase = (byte)(0x10 * index);
        NoiseProtocol protocol = NoiseProtocol.Parse("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256");
        Assert.Equal("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256", protocol.Name);

        // The README's recipe for the KEM key: seeded key generation with 64 bytes of base+5; check it gives the stored keys.
        byte[] kemSeed = Fill(64, seedBase + 5);
        byte[] kemPublic = new byte[MlKem768.PublicKeySize], kemSecret = new byte[MlKem768.SecretKeySize];
        MlKem768.GenerateKeyPair(kemPublic, kemSecret, kemSeed);
        Assert.Equal(Field(vector, "ephemeral_kem_i_public"), Convert.ToHexStringLower(kemPublic));
        Assert.Equal(Field(vector, "ephemeral_kem_i_secret"), Convert.ToHexStringLower(kemSecret));

        var seeds = new FixedKemSeeds(kemSeed, Convert.FromHexString(Field(vector, "encap_seed_hex")));
        using var initiator = new HandshakeState(protocol, initiator: true, Hex(vector, "prologue"), Hex(vector, "static_i_private"), default,
            ephemeralSource: Fixed(Hex(vector, "ephemeral_dh_i_private")), kemSeeds: seeds);
        using var responder = new HandshakeState(protocol, initiator: false, Hex(vector, "prologue"), Hex(vector, "static_r_private"), default,
            ephemeralSource: Fixed(Hex(vector, "ephemeral_dh_r_private")), kemSeeds: seeds);
        Assert.Equal(Field(vector, "static_i_public"), Convert.ToHexStringLower(initiator.LocalStaticPublicKey));
        Assert.Equal(Field(vector, "static_r_public"), Convert.ToHexStringLower(responder.LocalStaticPublicKey));

        Exchange(initiator, responder, vector, "msg_a");
        Exchange(responder, initiator, vector, "msg_b");
        Exchange(initiator, responder, vector, "msg_c");
        Assert.Equal(Field(vector, "handshake_hash"), Convert.ToHexStringLower(initiator.HandshakeHash));
        Assert.Equal(Field(vector, "handshake_hash"), Convert.ToHexStringLower(responder.HandshakeHash));
        Assert.Equal(Field(vector, "static_r_public"), Convert.ToHexStringLower(initiator.RemoteStaticPublicKey));
        Assert.Equal(Field(vector, "static_i_public"), Convert.ToHexStringLower(responder.RemoteStaticPublicKey));

        using NoiseTransport initiatorTransport = initiator.Split(), responderTransport = responder.Split();
        // The split keys are never exposed: a message sealed by each transport must equal one sealed under the vector's key.
        AssertKey(Hex(vector, "cs1_k"), initiatorTransport.Send, protocol);
        AssertKey(Hex(vector, "cs1_k"), responderTransport.Receive, protocol, receiving: true);
        AssertKey(Hex(vector, "cs2_k"), responderTransport.Send, protocol);
        AssertKey(Hex(vector, "cs2_k"), initiatorTransport.Receive, protocol, receiving: true);
    }

    private static void Exchange(HandshakeState writer, HandshakeState reader, JsonElement vector, string field)
    {
        byte[] expected = Hex(vector, field);
        Assert.Equal(vector.GetProperty(field + "_bytes").GetInt32(), expected.Length);
        Assert.Equal(expected.Length, writer.GetMessageLength(0));
        byte[] message = new byte[expected.Length];
        Assert.Equal(expected.Length, writer.WriteMessage(default, message));
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(message));
        Assert.Equal(0, reader.ReadMessage(message, new byte[message.Length]));
    }

    private static void AssertKey(byte[] expectedKey, CipherState state, NoiseProtocol protocol, bool receiving = false)
    {
        byte[] plaintext = "which key?"u8.ToArray();
        using var reference = new CipherState(protocol.Cipher);
        reference.InitializeKey(expectedKey);
        byte[] sealedByReference = new byte[plaintext.Length + 16];
        reference.EncryptWithAd(default, plaintext, sealedByReference);
        if (receiving)
        {
            byte[] opened = new byte[plaintext.Length];
            Assert.True(state.TryDecryptWithAd(default, sealedByReference, opened, out int length) && length == plaintext.Length);
        }
        else
        {
            byte[] sealedByState = new byte[plaintext.Length + 16];
            state.EncryptWithAd(default, plaintext, sealedByState);
            Assert.Equal(sealedByReference, sealedByState);
        }
    }

    private static string Field(JsonElement vector, string field) => vector.GetProperty(field).GetString()!;

    private static byte[] Hex(JsonElement vector, string field) => Convert.FromHexString(Field(vector, field));

    private static byte[] Fill(int length, int value) => Enumerable.Repeat((byte)value, length).ToArray();

    private static EphemeralKeySource Fixed(byte[] key) => destination => key.CopyTo(destination);

    private sealed class FixedKemSeeds(byte[] keyPairSeed, byte[] encapsulationSeed) : IKemSeedSource
    {
        public void KeyPairSeed(Span<byte> seed) => keyPairSeed.CopyTo(seed);

        public void EncapsulationSeed(Span<byte> seed) => encapsulationSeed.CopyTo(seed);
    }
}
