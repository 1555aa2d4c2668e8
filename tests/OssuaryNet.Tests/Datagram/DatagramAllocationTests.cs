using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Sending and receiving a data packet on an established connection allocates nothing, nor do the timer calls made after each.</summary>
public sealed class DatagramAllocationTests
{
    [Theory]
    [InlineData(OssuarySuite.ChaChaPolyBlake2b, 64)]
    [InlineData(OssuarySuite.ChaChaPolyBlake2b, 1167)]
    [InlineData(OssuarySuite.AesGcmSha256, 64)]
    [InlineData(OssuarySuite.AesGcmSha256, 1167)]
    public void TheDataPathAllocatesNothing(OssuarySuite suite, int size)
    {
        var (network, client, server, clientHandle, serverHandle) = Connected(700, ik: true, server: o => o.Suite = suite, client: o => o.Suite = suite);
        using var _n = network;
        DatagramEndpoint a = client.Endpoint, b = server.Endpoint;
        byte[] payload = new byte[size], packet = new byte[1200], address = new byte[64], received = new byte[1200];
        TimeSpan now = network.Now;
        long delivered = 0, failures = 0; // counted rather than asserted inside the loop: xunit's comparers allocate

        void RoundTrip()
        {
            now += TimeSpan.FromMilliseconds(1);
            failures += a.Send(clientHandle, payload, now) == DatagramSendResult.Sent ? 0 : 1;
            failures += a.TryPollTransmit(packet, address, out int length, out _) ? 0 : 1;
            b.HandleDatagram(packet.AsSpan(0, length), client.Address, now);
            while (b.TryPollEvent(out _))
            {
            }
            while (b.TryReceive(serverHandle, received, out int got, out _))
            {
                delivered += got;
            }
            failures += b.Send(serverHandle, payload, now) == DatagramSendResult.Sent ? 0 : 1;
            failures += b.TryPollTransmit(packet, address, out length, out _) ? 0 : 1;
            a.HandleDatagram(packet.AsSpan(0, length), server.Address, now);
            while (a.TryPollEvent(out _))
            {
            }
            while (a.TryReceive(clientHandle, received, out int got, out _))
            {
                delivered += got;
            }
            // The loop a UDP wrapper runs after each packet: ask for the next deadline, run the timers.
            failures += a.NextTimeout() is null ? 1 : 0;
            failures += b.NextTimeout() is null ? 1 : 0;
            a.HandleTimeout(now);
            b.HandleTimeout(now);
        }

        for (int i = 0; i < 200; i++)
        {
            RoundTrip(); // pools, queues and cipher objects warm up
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2000; i++)
        {
            RoundTrip();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.Equal(2 * 2200L * size, delivered);
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 2000 round trips of {size}-byte datagrams");
    }
}
