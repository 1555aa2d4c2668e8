using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>What a handshake allocates, and the pooled memory that holds its secrets.</summary>
public sealed class HandshakeMemoryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHandshakeAllocatesAtMostTwoAndAHalfKibibytesForBothEnds(bool ik)
    {
        var clientOptions = new OssuaryClientOptions
        {
            StaticKeyPair = TestKeys.Client,
            PeerVerifier = PeerVerifier.Pinned(TestKeys.Server.PublicKey),
            ServerKey = ik ? TestKeys.Server.PublicKey : null,
        };
        var serverOptions = new OssuaryServerOptions
        {
            StaticKeyPair = TestKeys.Server,
            PeerVerifier = PeerVerifier.Pinned(TestKeys.Client.PublicKey),
        };

        int established = 0;
        void Handshake()
        {
            using var client = OssuaryConnection.CreateClient(clientOptions);
            using var server = OssuaryConnection.CreateServer(serverOptions);
            Span<byte> buffer = stackalloc byte[512];
            while (client.State == OssuaryConnectionState.Handshaking || server.State == OssuaryConnectionState.Handshaking || client.HasPendingOutput)
            {
                client.Send(default, buffer, out _, out int written);
                server.Receive(buffer[..written], default, out _, out _);
                server.VerifyPendingPeer();
                server.Send(default, buffer, out _, out written);
                client.Receive(buffer[..written], default, out _, out _);
                client.VerifyPendingPeer();
            }
            // Counted rather than asserted here: xunit's Assert.Equal allocates, and this loop measures allocation.
            if (client.State == OssuaryConnectionState.Established && server.State == OssuaryConnectionState.Established)
            {
                established++;
            }
        }

        for (int i = 0; i < 20; i++)
        {
            Handshake();
        }
        const int Count = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Count; i++)
        {
            Handshake();
        }
        // An average: another test's thread may take a pooled block now and then, and the allocation replaces it.
        double perHandshake = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Count;
        Assert.Equal(20 + Count, established);
        // 1784 B before the core had typed phases; each side now also holds its phase objects, a record sender, a
        // record receiver, the pong queue between them and the proof of verification (about 330 B a side).
        Assert.True(perHandshake <= 2560, $"{perHandshake:F0} B per handshake (both ends)");
    }

    [Fact]
    public void PooledSecretBlocksAreWipedWhenReturned()
    {
        byte[] block = SecretBlockPool.Rent();
        Assert.Equal(SecretBlockPool.BlockSize, block.Length);
        Assert.All(block, b => Assert.Equal(0, b));
        block.AsSpan().Fill(0xA5);
        SecretBlockPool.Return(block);
        Assert.All(block, b => Assert.Equal(0, b));
        Assert.Throws<ArgumentException>(() => SecretBlockPool.Return(new byte[16]));
    }

    [Fact]
    public void ADisposedCipherStateRefusesToWorkRatherThanPassDataThrough()
    {
        var state = new CipherState(ChaChaPolyCipher.Instance);
        state.InitializeKey(new byte[32]);
        state.Dispose();
        Assert.False(state.HasKey);
        byte[] output = new byte[64];
        Assert.Throws<ObjectDisposedException>(() => state.EncryptWithAd(default, "secret"u8, output));
        Assert.Throws<ObjectDisposedException>(() => state.TryDecryptWithAd(default, output, output, out _));
        Assert.All(output, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ASpentHandshakeReturnsItsMemoryAndCannotBeUsed()
    {
        NoiseProtocol protocol = NoiseProtocol.Parse("Noise_NN_25519_ChaChaPoly_BLAKE2b");
        var initiator = new HandshakeState(protocol, initiator: true, default, default, default);
        initiator.Dispose();
        initiator.Dispose(); // idempotent: the block goes back to the pool once
        Assert.Throws<OssuaryException>(() => initiator.WriteMessage(default, new byte[64]));
        byte[] first = SecretBlockPool.Rent(), second = SecretBlockPool.Rent();
        Assert.NotSame(first, second);
        SecretBlockPool.Return(first);
        SecretBlockPool.Return(second);
    }
}
