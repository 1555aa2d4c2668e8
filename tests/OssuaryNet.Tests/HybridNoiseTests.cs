using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>Noise HFS at the handshake-state level: both patterns and suites, malformed KEM keys, tampering, and transactional reads.</summary>
public sealed class HybridNoiseTests
{
    public static TheoryData<string> Protocols() => new()
    {
        "Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b",
        "Noise_XXhfs_25519+MLKEM768_AESGCM_SHA256",
        "Noise_IKhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b",
        "Noise_IKhfs_25519+MLKEM768_AESGCM_SHA256",
    };

    private static (HandshakeState Initiator, HandshakeState Responder) Pair(string name)
    {
        NoiseProtocol protocol = NoiseProtocol.Parse(name);
        bool ik = protocol.Pattern.ResponderPreMessage.Length > 0;
        var initiator = new HandshakeState(protocol, initiator: true, "prologue"u8, TestKeys.Client.PrivateKey, ik ? TestKeys.Server.PublicKey.Bytes : default);
        var responder = new HandshakeState(protocol, initiator: false, "prologue"u8, TestKeys.Server.PrivateKey, default);
        return (initiator, responder);
    }

    private static byte[] Write(HandshakeState writer, ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[writer.GetMessageLength(payload.Length)];
        Assert.Equal(message.Length, writer.WriteMessage(payload, message));
        return message;
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void BothSidesAgreeAndTheMessagesHaveTheirDocumentedSizes(string name)
    {
        NoiseProtocol protocol = NoiseProtocol.Parse(name);
        Assert.Equal(name, protocol.Name);
        (HandshakeState initiator, HandshakeState responder) = Pair(name);
        using (initiator)
        using (responder)
        {
            var sizes = new List<int>();
            while (!initiator.IsComplete)
            {
                HandshakeState writer = initiator.IsMyTurnToWrite ? initiator : responder;
                HandshakeState reader = writer == initiator ? responder : initiator;
                byte[] message = Write(writer, "payload"u8);
                sizes.Add(message.Length - 7);
                byte[] payload = new byte[message.Length];
                Assert.Equal(7, reader.ReadMessage(message, payload));
                Assert.Equal("payload"u8.ToArray(), payload[..7]);
            }
            Assert.True(responder.IsComplete);
            // XXhfs: e ‖ e1 (plain), e ‖ ct+tag ‖ s+tag ‖ tag, s+tag ‖ tag; IKhfs: e ‖ s-DH'd e1+tag ‖ s+tag ‖ tag, e ‖ ct+tag ‖ tag.
            int[] expected = name.Contains("XXhfs") ? [32 + 1184, 32 + 1088 + 16 + 48 + 16, 48 + 16] : [32 + 1184 + 16 + 48 + 16, 32 + 1088 + 16 + 16];
            Assert.Equal(expected, sizes);
            Assert.True(initiator.HandshakeHash.SequenceEqual(responder.HandshakeHash));
            Assert.True(initiator.RemoteStaticPublicKey.SequenceEqual(TestKeys.Server.PublicKey.Bytes));
            Assert.True(responder.RemoteStaticPublicKey.SequenceEqual(TestKeys.Client.PublicKey.Bytes));
        }
    }

    [Fact]
    public void AnHfsPatternNeedsItsKemInTheNameAndAClassicalOneMustNotHaveIt()
    {
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XXhfs_25519_ChaChaPoly_BLAKE2b")).ErrorCode);
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XX_25519+MLKEM768_ChaChaPoly_BLAKE2b")).ErrorCode);
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XXhfs_25519+Kyber1024_ChaChaPoly_BLAKE2b")).ErrorCode);
    }

    [Fact]
    public void AMalformedKemPublicKeyFailsTheResponderWithInvalidKey()
    {
        (HandshakeState initiator, HandshakeState responder) = Pair("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b");
        using (initiator)
        using (responder)
        {
            byte[] first = Write(initiator, default);
            // XXhfs sends e1 in the clear: coefficients of 0xFFF are all above q = 3329, which FIPS 203's check refuses.
            first.AsSpan(32, 1152).Fill(0xFF);
            responder.ReadMessage(first, new byte[first.Length]);
            OssuaryException failure = Assert.Throws<OssuaryException>(() => Write(responder, default));
            Assert.Equal(OssuaryErrorCode.InvalidKey, failure.ErrorCode);
        }
    }

    [Fact]
    public void EveryTamperedByteOfTheKemCiphertextFailsTheInitiator()
    {
        for (int offset = 32; offset < 32 + 1088 + 16; offset += 97)
        {
            (HandshakeState initiator, HandshakeState responder) = Pair("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b");
            using (initiator)
            using (responder)
            {
                byte[] first = Write(initiator, default);
                responder.ReadMessage(first, new byte[first.Length]);
                byte[] second = Write(responder, default);
                second[offset] ^= 0x04;
                OssuaryException failure = Assert.Throws<OssuaryException>(() => initiator.ReadMessage(second, new byte[second.Length]));
                Assert.Equal(OssuaryErrorCode.AuthenticationFailed, failure.ErrorCode);
            }
        }
    }

    [Fact]
    public void AForgedSecondMessageChangesNothingAndTheGenuineOneIsStillTaken()
    {
        (HandshakeState initiator, HandshakeState responder) = Pair("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b");
        using (initiator)
        using (responder)
        {
            byte[] first = Write(initiator, default);
            responder.ReadMessage(first, new byte[first.Length]);
            byte[] second = Write(responder, default);
            byte[] forged = second.ToArray();
            forged[600] ^= 1; // inside the encrypted KEM ciphertext: decapsulation must not be what consumes the key
            Assert.False(initiator.TryReadMessage(forged, new byte[forged.Length], out _, out OssuaryException? error));
            Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error!.ErrorCode);
            Assert.True(initiator.TryReadMessage(second, new byte[second.Length], out _, out error), error?.Message);
            byte[] third = Write(initiator, default);
            responder.ReadMessage(third, new byte[third.Length]);
            Assert.True(initiator.HandshakeHash.SequenceEqual(responder.HandshakeHash));
        }
    }

    [Fact]
    public void ClassicalAndHybridHandshakesOfTheSameKeysDiffer()
    {
        // The protocol name is hashed first, so a hybrid handshake's hash can never equal a classical one's.
        NoiseProtocol hybrid = NoiseProtocol.Parse("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b");
        NoiseProtocol classical = NoiseProtocol.Parse("Noise_XX_25519_ChaChaPoly_BLAKE2b");
        using var a = new HandshakeState(hybrid, true, default, TestKeys.Client.PrivateKey, default);
        using var b = new HandshakeState(classical, true, default, TestKeys.Client.PrivateKey, default);
        Assert.False(a.HandshakeHash.SequenceEqual(b.HandshakeHash));
        Assert.Equal(MlKem768.PublicKeySize + 32, a.GetMessageLength(0));
    }
}
