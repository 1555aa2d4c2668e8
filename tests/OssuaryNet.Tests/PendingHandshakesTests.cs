using System.Net;
using OssuaryNet.Streams;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>The listener's admission policy, with time passed in.</summary>
public sealed class PendingHandshakesTests
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.2"), B = IPAddress.Parse("127.0.0.3"), Legit = IPAddress.Loopback;

    private sealed class Harness(int max, int perSource, double firstFrameSeconds = 5, double graceSeconds = 0.5)
    {
        public PendingHandshakes Pending { get; } = new(max, perSource, TimeSpan.FromSeconds(firstFrameSeconds), TimeSpan.FromSeconds(graceSeconds));
        public List<string> Aborted { get; } = [];

        public PendingHandshakes.Entry Admit(string name, IPAddress source, double at, bool makeRoom = false) =>
            TryAdmit(name, source, at, makeRoom) ?? throw new InvalidOperationException($"{name} was refused");

        public PendingHandshakes.Entry? TryAdmit(string name, IPAddress source, double at, bool makeRoom = false)
        {
            var dropped = new List<PendingHandshakes.Entry>();
            PendingHandshakes.Entry? entry = Pending.Admit(source, TimeSpan.FromSeconds(at), () => Aborted.Add(name), dropped, makeRoom);
            dropped.ForEach(e => e.Abort());
            return entry;
        }
    }

    [Fact]
    public void UnderPressureASourceAtItsLimitDisplacesOnlyItsOwnStalledHandshakes()
    {
        var h = new Harness(max: 3, perSource: 2);
        h.Admit("b1", B, 0);
        h.Admit("a1", A, 0.1);
        h.Admit("a2", A, 0.2);
        h.Admit("a3", A, 1); // full, and A holds 2: A's own oldest stalled goes, not B's older one
        Assert.Equal(["a1"], h.Aborted);
        Assert.Equal(3, h.Pending.Count);
    }

    [Fact]
    public void UnderPressureASourceAtItsLimitWithNothingStalledIsRefused()
    {
        var h = new Harness(max: 2, perSource: 1);
        h.Admit("a1", A, 0).FirstFrameReceived = true;
        h.Admit("b1", B, 0);
        Assert.Null(h.TryAdmit("a2", A, 1));
        Assert.Empty(h.Aborted);
        Assert.Equal(1, h.Pending.Refused);
        h.Admit("c1", IPAddress.Parse("127.0.0.9"), 1); // another address still gets B's stalled place
        Assert.Equal(["b1"], h.Aborted);
    }

    [Fact]
    public void AtTheConnectionCapANewcomerIsAdmittedOnlyInExchangeForAStalledHandshake()
    {
        var h = new Harness(max: 10, perSource: 10);
        h.Admit("a1", A, 0);
        Assert.False(h.Pending.HasStalled(TimeSpan.FromSeconds(0.2)));
        Assert.True(h.Pending.HasStalled(TimeSpan.FromSeconds(1)));
        h.Admit("b1", B, 1, makeRoom: true);
        Assert.Equal(["a1"], h.Aborted);
    }

    [Fact]
    public void AYoungBurstFromOneSourceIsNeverTurnedAgainstItself()
    {
        var h = new Harness(max: 100, perSource: 2);
        for (int i = 0; i < 50; i++)
        {
            h.Admit($"a{i}", A, i * 0.001);
        }
        Assert.Empty(h.Aborted);
        Assert.Equal(50, h.Pending.Count);
    }

    [Fact]
    public void AFullTableMakesRoomOnlyOnceAHandshakeHasStalled()
    {
        var h = new Harness(max: 3, perSource: 3);
        h.Admit("a1", A, 0);
        h.Admit("legit", Legit, 0).FirstFrameReceived = true;
        h.Admit("b1", B, 0.2);
        Assert.False(h.Pending.HasRoom(TimeSpan.FromSeconds(0.4)));
        Assert.True(h.Pending.HasRoom(TimeSpan.FromSeconds(0.5)));
        h.Admit("c1", IPAddress.Parse("127.0.0.9"), 0.5);
        Assert.Equal(["a1"], h.Aborted);
    }

    [Fact]
    public void WhenFullTheBusiestSourceLosesItsOldestStalledHandshake()
    {
        var h = new Harness(max: 4, perSource: 4);
        h.Admit("b1", B, 0);
        h.Admit("a1", A, 0.1);
        h.Admit("a2", A, 0.2);
        h.Admit("legit", Legit, 0.3).FirstFrameReceived = true;
        h.Admit("c1", IPAddress.Parse("127.0.0.9"), 1);
        Assert.Equal(["a1"], h.Aborted);
        h.Admit("c2", IPAddress.Parse("127.0.0.10"), 1);
        Assert.Equal(["a1", "b1"], h.Aborted); // A and B now have one each: the older goes
    }

    [Fact]
    public void AHandshakeThatDeliveredItsFirstFrameIsNeverDroppedWhileAStalledOneRemains()
    {
        var h = new Harness(max: 3, perSource: 3);
        h.Admit("legit", Legit, 0).FirstFrameReceived = true;
        for (int i = 0; i < 20; i++)
        {
            h.Admit($"x{i}", IPAddress.Parse($"127.0.1.{i}"), i);
        }
        Assert.DoesNotContain("legit", h.Aborted);
        Assert.Equal(18, h.Aborted.Count);
    }

    [Fact]
    public void SweepDropsOnlyHandshakesWhoseFirstFrameIsOverdue()
    {
        var h = new Harness(max: 10, perSource: 10, firstFrameSeconds: 5);
        h.Admit("silent", A, 0);
        h.Admit("fast", B, 0).FirstFrameReceived = true;
        h.Admit("young", A, 3);
        var dropped = new List<PendingHandshakes.Entry>();
        h.Pending.Sweep(TimeSpan.FromSeconds(5), dropped);
        dropped.ForEach(e => e.Abort());
        Assert.Equal(["silent"], h.Aborted);
        Assert.Equal(2, h.Pending.Count);
        Assert.Equal(1, h.Pending.Evicted);
    }

    [Fact]
    public void RemoveTellsWhetherTheHandshakeWasStillTracked()
    {
        var h = new Harness(max: 1, perSource: 1);
        PendingHandshakes.Entry first = h.Admit("first", A, 0);
        Assert.True(h.Pending.HasRoom(TimeSpan.FromSeconds(1)));
        h.Admit("second", B, 1);
        Assert.False(h.Pending.Remove(first)); // dropped for the newcomer
        Assert.Equal(1, h.Pending.Count);
    }

    [Fact]
    public void RunningOutOfDescriptorsDropsHandshakesStillWaitingForTheirFirstFrame()
    {
        var h = new Harness(max: 10, perSource: 10);
        h.Admit("a1", A, 0);
        h.Admit("legit", Legit, 0).FirstFrameReceived = true;
        h.Admit("b1", B, 0.01);
        h.Admit("a2", A, 0.02);
        var dropped = new List<PendingHandshakes.Entry>();
        h.Pending.DropWaiting(2, dropped);
        dropped.ForEach(e => e.Abort());
        Assert.Equal(["a1", "b1"], h.Aborted);
        Assert.Equal(2, h.Pending.Count);
    }
}
