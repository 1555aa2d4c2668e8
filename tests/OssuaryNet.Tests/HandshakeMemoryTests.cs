using OssuaryNet.Crypto;
using OssuaryNet.Noise;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>What a handshake allocates, and the pooled memory that holds its secrets.</summary>
/// <remarks>
/// Not in parallel with other tests: handshakes on other threads take blocks from the same shared pool, and this
/// thread then allocates replacements (hybrid handshakes, which hold their blocks longer, pushed the average from
/// 1984 to 2078 B in a mixed run).
/// </remarks>
[Collection(ProcessWideMeasurements.Name)]
public sealed class HandshakeMemoryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHandshakeAllocatesAtMostTwoKibibytesForBothEnds(bool ik)
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
        Assert.True(perHandshake <= 2048, $"{perHandshake:F0} B per handshake (both ends)");
    }

    [Fact]
    public void PooledSecretBlocksAreWipedWhenReturned()
    {
        foreach (SecretBlockPool pool in (SecretBlockPool[])[SecretBlockPool.Handshake, SecretBlockPool.Transport])
        {
            byte[] block = pool.Rent();
            Assert.Equal(pool.BlockSize, block.Length);
            Assert.All(block, b => Assert.Equal(0, b));
            block.AsSpan().Fill(0xA5);
            pool.Return(block);
            Assert.All(block, b => Assert.Equal(0, b));
            Assert.Throws<ArgumentException>(() => pool.Return(new byte[16]));
        }
    }

    [Fact]
    public void ADisposedConnectionGivesItsKeyBlockBackAndNoLongerShowsItsHash()
    {
        var pair = ConnectionPair.Established();
        byte[] hash = pair.Client.HandshakeHash.ToArray();
        Assert.Equal(64, hash.Length);
        pair.Dispose();
        Assert.True(pair.Client.HandshakeHash.IsEmpty); // the block may now hold another connection's keys
        Assert.Throws<ObjectDisposedException>(() => pair.Client.Send("x"u8, new byte[100], out _, out _));
        using var next = ConnectionPair.Established(); // likely reuses the block: still correct (same deterministic keys)
        Assert.Equal(hash, next.Client.HandshakeHash.ToArray());
        next.ClientSends("after reuse"u8);
        next.Pump();
        Assert.Equal("after reuse"u8.ToArray(), next.ServerReceived);
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
        byte[] first = SecretBlockPool.Handshake.Rent(), second = SecretBlockPool.Handshake.Rent();
        Assert.NotSame(first, second);
        SecretBlockPool.Handshake.Return(first);
        SecretBlockPool.Handshake.Return(second);
    }
}
