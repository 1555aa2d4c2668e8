using System.Security.Cryptography;
using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class NoiseStateTests
{
    public static TheoryData<string> Ciphers() => new() { "ChaChaPoly", "AESGCM" };

    private static NoiseCipher Cipher(string name) => name == "AESGCM" ? AesGcmCipher.Instance : ChaChaPolyCipher.Instance;

    private static (CipherState Sender, CipherState Receiver) Pair(string cipher)
    {
        var sender = new CipherState(Cipher(cipher));
        var receiver = new CipherState(Cipher(cipher));
        byte[] key = RandomNumberGenerator.GetBytes(32);
        sender.InitializeKey(key);
        receiver.InitializeKey(key);
        return (sender, receiver);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void AFailedDecryptionChangesNothing(string cipher)
    {
        var (sender, receiver) = Pair(cipher);
        byte[] ciphertext = new byte[5 + 16];
        sender.EncryptWithAd("ad"u8, "hello"u8, ciphertext);
        byte[] plaintext = new byte[5];
        for (int i = 0; i < ciphertext.Length * 8; i++)
        {
            byte[] forged = ciphertext.ToArray();
            forged[i / 8] ^= (byte)(1 << (i % 8));
            Assert.False(receiver.TryDecryptWithAd("ad"u8, forged, plaintext, out _));
            Assert.Equal(0UL, receiver.Nonce);
            Assert.All(plaintext, b => Assert.Equal(0, b));
        }
        Assert.False(receiver.TryDecryptWithAd("other ad"u8, ciphertext, plaintext, out _));
        Assert.Equal(0UL, receiver.Nonce);
        // The genuine message still decrypts: no forgery desynchronised the receiver.
        Assert.True(receiver.TryDecryptWithAd("ad"u8, ciphertext, plaintext, out int written));
        Assert.Equal("hello"u8.ToArray(), plaintext[..written]);
        Assert.Equal(1UL, receiver.Nonce);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void TheLastNonceIsReservedAndExhaustionIsAnError(string cipher)
    {
        var (sender, receiver) = Pair(cipher);
        sender.Nonce = ulong.MaxValue - 1;
        receiver.Nonce = ulong.MaxValue - 1;
        byte[] ciphertext = new byte[17];
        sender.EncryptWithAd(default, "x"u8, ciphertext);
        Assert.True(receiver.TryDecryptWithAd(default, ciphertext, new byte[1], out _));
        Assert.Equal(ulong.MaxValue, sender.Nonce);
        Assert.Equal(OssuaryErrorCode.NonceExhausted, Assert.Throws<OssuaryException>(() => sender.EncryptWithAd(default, "x"u8, ciphertext)).ErrorCode);
        Assert.Equal(OssuaryErrorCode.NonceExhausted, Assert.Throws<OssuaryException>(() => receiver.TryDecryptWithAd(default, ciphertext, new byte[1], out _)).ErrorCode);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void RekeyChangesTheKeyButNotTheNonceAndBothSidesAgree(string cipher)
    {
        var (sender, receiver) = Pair(cipher);
        byte[] before = new byte[17], after = new byte[17];
        sender.EncryptWithAd(default, "x"u8, before);
        receiver.TryDecryptWithAd(default, before, new byte[1], out _);
        sender.Rekey();
        receiver.Rekey();
        Assert.Equal(1UL, sender.Nonce);
        sender.Nonce = 0;
        sender.EncryptWithAd(default, "x"u8, after);
        Assert.NotEqual(before, after); // same nonce and plaintext, new key
        receiver.Nonce = 0;
        Assert.True(receiver.TryDecryptWithAd(default, after, new byte[1], out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    public void HmacSha256MatchesDotNet(int length)
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] data = RandomNumberGenerator.GetBytes(length);
        byte[] ours = new byte[32];
        Sha256Hash.Instance.Hmac(key, data.AsSpan(0, length / 2), data.AsSpan(length / 2), ours);
        Assert.Equal(HMACSHA256.HashData(key, data), ours);
    }

    [Fact]
    public void ProtocolNamesRoundTripAndUnsupportedOnesAreTyped()
    {
        foreach (string name in new[] { "Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_IKpsk2_25519_AESGCM_SHA256", "Noise_XXpsk0+psk3_25519_ChaChaPoly_SHA256" })
        {
            Assert.Equal(name, NoiseProtocol.Parse(name).Name);
        }
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XX_448_ChaChaPoly_BLAKE2b")).ErrorCode);
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XX_25519_ChaChaPoly_BLAKE2s")).ErrorCode);
        Assert.Equal(OssuaryErrorCode.UnsupportedPattern, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XY_25519_ChaChaPoly_BLAKE2b")).ErrorCode);
        Assert.Equal(OssuaryErrorCode.UnsupportedPattern, Assert.Throws<OssuaryException>(() => NoiseProtocol.Parse("Noise_XXpsk9_25519_ChaChaPoly_BLAKE2b")).ErrorCode);
        Assert.Equal("-> e\n<- e, ee, s, es\n-> s, se\n", HandshakePattern.Parse("XX").Describe());
        Assert.Equal("-> psk, e\n<- e, ee, s, es\n-> s, se, psk\n", HandshakePattern.Parse("XXpsk0+psk3").Describe());
    }

    [Fact]
    public void AHandshakeCannotBeReusedAfterSplit()
    {
        var protocol = NoiseProtocol.Parse("Noise_NN_25519_ChaChaPoly_BLAKE2b");
        using var initiator = new HandshakeState(protocol, true, default, default, default);
        using var responder = new HandshakeState(protocol, false, default, default, default);
        byte[] message = new byte[100], payload = new byte[100];
        responder.ReadMessage(message.AsSpan(0, initiator.WriteMessage(default, message)), payload);
        initiator.ReadMessage(message.AsSpan(0, responder.WriteMessage(default, message)), payload);
        using NoiseTransport transport = initiator.Split();
        Assert.Equal(OssuaryErrorCode.InvalidOperation, Assert.Throws<OssuaryException>(() => initiator.WriteMessage(default, message)).ErrorCode);
        Assert.Equal(OssuaryErrorCode.InvalidOperation, Assert.Throws<OssuaryException>(() => initiator.Split()).ErrorCode);
    }

    [Fact]
    public void LowOrderPeerKeysAreRefused()
    {
        var protocol = NoiseProtocol.Parse("Noise_NN_25519_ChaChaPoly_BLAKE2b");
        using var responder = new HandshakeState(protocol, false, default, default, default);
        byte[] payload = new byte[100];
        responder.ReadMessage(new byte[32], payload); // an all-zero ephemeral key: a low-order point
        var error = Assert.Throws<OssuaryException>(() => responder.WriteMessage(default, new byte[100])); // "ee" uses it
        Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
    }
}

public sealed class CipherBackendTests
{
    /// <summary>libsodium and OpenSSL must produce the same bytes, so the size-based choice is invisible on the wire.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(16384)]
    [InlineData(65519)]
    public void LibsodiumAndOpenSslChaChaPolyAgreeByteForByte(int length)
    {
        Assert.True(System.Security.Cryptography.ChaCha20Poly1305.IsSupported, "OpenSSL's ChaCha20-Poly1305 should be available here");
        byte[] key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        byte[] plaintext = System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);
        byte[] ad = "ad"u8.ToArray();
        using var mixed = new CipherState(ChaChaPolyCipher.Instance);
        using var sodium = new CipherState(ChaChaPolyCipher.LibsodiumOnly);
        mixed.InitializeKey(key);
        sodium.InitializeKey(key);
        byte[] a = new byte[length + 16], b = new byte[length + 16];
        mixed.Nonce = sodium.Nonce = 42;
        mixed.EncryptWithAd(ad, plaintext, a);
        sodium.EncryptWithAd(ad, plaintext, b);
        Assert.Equal(b, a);
        byte[] opened = new byte[length];
        mixed.Nonce = sodium.Nonce = 42;
        Assert.True(mixed.TryDecryptWithAd(ad, b, opened, out _));
        Assert.Equal(plaintext, opened);
        Assert.True(sodium.TryDecryptWithAd(ad, a, opened, out _));
        a[^1] ^= 1;
        mixed.Nonce = 42;
        Assert.False(mixed.TryDecryptWithAd(ad, a, opened, out _));
        Assert.All(opened, x => Assert.Equal(0, x));
        // A new key must not reuse the OpenSSL context built from the old one.
        mixed.InitializeKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        mixed.Nonce = 42;
        Assert.False(mixed.TryDecryptWithAd(ad, b, opened, out _));
    }
}
