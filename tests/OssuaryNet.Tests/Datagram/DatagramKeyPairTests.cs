using System.Security.Cryptography;
using OssuaryNet.Crypto;
using OssuaryNet.Datagram;
using OssuaryNet.Noise;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Data packets of datagram mode: the receive order that lets nothing forged change anything.</summary>
public sealed class DatagramKeyPairTests
{
    private const uint BobSession = 0x22222222; // the session id Bob chose; Alice's packets carry it

    private static (DatagramKeyPair Alice, DatagramKeyPair Bob) Pair(NoiseCipher? cipher = null)
    {
        cipher ??= ChaChaPolyCipher.Instance;
        byte[] one = RandomNumberGenerator.GetBytes(32), two = RandomNumberGenerator.GetBytes(32), hash = new byte[64];
        return (new DatagramKeyPair(new NoiseTransport(cipher, one, two, hash), isInitiator: true, TimeSpan.Zero),
                new DatagramKeyPair(new NoiseTransport(cipher, two, one, hash), isInitiator: false, TimeSpan.Zero));
    }

    private static byte[] Seal(DatagramKeyPair from, uint to, ReadOnlySpan<byte> inner)
    {
        byte[] packet = new byte[DatagramKeyPair.PacketSize(inner.Length)];
        Assert.True(from.TrySeal(to, inner, packet, out int length));
        Assert.Equal(packet.Length, length);
        return packet;
    }

    private static (bool Opened, byte[] Inner, DatagramDropReason Reason) Open(DatagramKeyPair to, byte[] packet)
    {
        if (!DatagramPacket.TryParse(packet, out ParsedDatagram parsed, out DatagramDropReason reason))
        {
            return (false, [], reason);
        }
        byte[] inner = new byte[packet.Length];
        bool opened = to.TryOpen(parsed, inner, out int length, out reason);
        return (opened, inner[..length], reason);
    }

    public static TheoryData<string> Suites => new() { "chacha", "aesgcm" };

    [Theory]
    [MemberData(nameof(Suites))]
    public void PacketsOpenOnceInAnyOrderWithinTheWindow(string suite)
    {
        var (alice, bob) = Pair(suite == "chacha" ? ChaChaPolyCipher.Instance : AesGcmCipher.Instance);
        byte[][] packets = Enumerable.Range(0, 10).Select(i => Seal(alice, BobSession, [(byte)i, 1])).ToArray();
        foreach (int i in (int[])[3, 0, 9, 1, 2, 8, 4, 7, 5, 6])
        {
            var (opened, inner, _) = Open(bob, packets[i]);
            Assert.True(opened);
            Assert.Equal(new byte[] { (byte)i, 1 }, inner);
        }
        Assert.Equal((false, DatagramDropReason.Duplicate), (Open(bob, packets[4]).Opened, Open(bob, packets[4]).Reason));
        Assert.Equal(9UL, bob.HighestReceived);
        Assert.Equal(10UL, alice.NextSendCounter);
    }

    [Fact]
    public void ForgedPacketsAtTheNextCountersAndFarAheadChangeNothing()
    {
        var (alice, bob) = Pair();
        byte[] first = Seal(alice, BobSession, [1]);
        Assert.True(Open(bob, first).Opened);
        byte[] next = Seal(alice, BobSession, [2]);      // counter 1
        byte[] nextButOne = Seal(alice, BobSession, [3]); // counter 2

        foreach (ulong counter in (ulong[])[1, 2, 1UL << 40])
        {
            // Garbage with a valid session id and a plausible counter…
            byte[] garbage = RandomNumberGenerator.GetBytes(40);
            DatagramPacket.WriteDataHeader(garbage, BobSession, counter);
            Assert.Equal((false, DatagramDropReason.AuthenticationFailed), (Open(bob, garbage).Opened, Open(bob, garbage).Reason));
            // …and a genuine packet whose tag, or header, was changed to claim that counter.
            byte[] flipped = (byte[])next.Clone();
            flipped[^1] ^= 1;
            Assert.False(Open(bob, flipped).Opened);
            byte[] moved = (byte[])next.Clone();
            DatagramPacket.WriteDataHeader(moved, BobSession, counter);
            if (counter != 1)
            {
                Assert.Equal(DatagramDropReason.AuthenticationFailed, Open(bob, moved).Reason);
            }
            Assert.Equal(0UL, bob.HighestReceived);
        }
        // The genuine packets still open: the forged ones moved no window.
        Assert.Equal(new byte[] { 3 }, Open(bob, nextButOne).Inner);
        Assert.Equal(new byte[] { 2 }, Open(bob, next).Inner);
        Assert.Equal(2UL, bob.HighestReceived);
    }

    [Fact]
    public void TheHeaderIsAuthenticated()
    {
        var (alice, bob) = Pair();
        byte[] packet = Seal(alice, BobSession, "payload"u8);
        for (int bit = 0; bit < DatagramPacket.DataHeaderSize * 8; bit++)
        {
            byte[] flipped = (byte[])packet.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Open(bob, flipped).Opened, $"header bit {bit}");
        }
        Assert.True(Open(bob, packet).Opened);
    }

    [Fact]
    public void CountersStopAtTheLimitOnBothSides()
    {
        var (alice, bob) = Pair();
        alice.NextSendCounter = DatagramKeyPair.MessageLimit - 1;
        byte[] last = Seal(alice, BobSession, [7]);
        Assert.False(alice.TrySeal(BobSession, [8], new byte[64], out _));
        Assert.True(Open(bob, last).Opened);
        byte[] beyond = (byte[])last.Clone();
        DatagramPacket.WriteDataHeader(beyond, BobSession, DatagramKeyPair.MessageLimit);
        Assert.Equal(DatagramDropReason.CounterLimit, Open(bob, beyond).Reason);
    }

    [Fact]
    public void APacketFarBehindIsDroppedAsBehindTheWindow()
    {
        var (alice, bob) = Pair();
        byte[] old = Seal(alice, BobSession, [1]);
        alice.NextSendCounter = ReplayWindow.Size + 1;
        Assert.True(Open(bob, Seal(alice, BobSession, [2])).Opened);
        Assert.Equal(DatagramDropReason.BehindWindow, Open(bob, old).Reason);
    }
}
