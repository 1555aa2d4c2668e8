using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using OssuaryNet.Datagram;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The "OssuaryNet" meter, activity source and event source, read the way tools read them (MeterListener,
/// ActivityListener, EventListener). Alone in their collection: the instruments are process-wide.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class TelemetryTests
{
    private sealed record Measurement(string Instrument, double Value, Dictionary<string, string?> Tags);

    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _meters = new();
        private readonly ActivityListener _activities;
        public readonly ConcurrentQueue<Measurement> Measurements = new();
        public readonly ConcurrentQueue<Activity> Activities = new();

        public Recorder()
        {
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "OssuaryNet")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _meters.Start();
            _activities = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "OssuaryNet",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Activities.Enqueue,
            };
            ActivitySource.AddActivityListener(_activities);
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, string?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                copy[tag.Key] = tag.Value?.ToString();
            }
            Measurements.Enqueue(new Measurement(instrument.Name, value, copy));
        }

        public double Sum(string instrument, params (string Key, string Value)[] tags) =>
            Measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value)).Sum(m => m.Value);

        public int Count(string instrument, params (string Key, string Value)[] tags) =>
            Measurements.Count(m => m.Instrument == instrument && tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value));

        public void Dispose()
        {
            _meters.Dispose();
            _activities.Dispose();
        }
    }

    private sealed class FailureEvents : EventListener
    {
        public readonly ConcurrentQueue<EventWrittenEventArgs> Events = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "OssuaryNet")
            {
                EnableEvents(source, EventLevel.Warning);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e) => Events.Enqueue(e);
    }

    [Fact]
    public async Task AStreamConnectionIsCountedTimedAndTracedFromHandshakeToDisposal()
    {
        using var recorder = new Recorder();
        await using (OssuaryListener listener = Loopback.Listen())
        {
            ValueTask<OssuaryStream> accepting = listener.AcceptAsync();
            await using OssuaryStream client = await Loopback.Connect(listener);
            await using OssuaryStream server = await accepting;
            Assert.Equal(1, recorder.Sum("ossuary.connections.active", ("ossuary.role", "client")));
            Assert.Equal(1, recorder.Sum("ossuary.connections.active", ("ossuary.role", "server")));

            byte[] data = new byte[100_000];
            await client.WriteAsync(data);
            client.Connection!.RequestKeyUpdate();
            await client.WriteAsync(data);
            await client.ShutdownAsync();
            byte[] sink = new byte[65536];
            long received = 0;
            int read;
            while ((read = await server.ReadAsync(sink)) > 0)
            {
                received += read;
            }
            Assert.Equal(200_000, received);
        }

        foreach (string role in new[] { "client", "server" })
        {
            Assert.Equal(1, recorder.Sum("ossuary.handshakes.started", ("ossuary.role", role), ("ossuary.transport", "stream")));
            Assert.Equal(1, recorder.Sum("ossuary.handshakes.completed", ("ossuary.role", role), ("ossuary.pattern", "XX"), ("ossuary.suite", "ChaChaPolyBlake2b")));
            Assert.Equal(0, recorder.Count("ossuary.handshakes.failed"));
            Assert.Equal(1, recorder.Count("ossuary.handshake.duration", ("ossuary.role", role), ("ossuary.pattern", "XX"), ("ossuary.outcome", "completed")));
            Assert.Equal(0, recorder.Sum("ossuary.connections.active", ("ossuary.role", role))); // back to zero once disposed
        }
        Assert.Equal(2, recorder.Sum("ossuary.verifications", ("ossuary.verdict", "accepted")));
        Assert.Equal(1, recorder.Sum("ossuary.key_updates", ("ossuary.direction", "sent")));
        Assert.Equal(1, recorder.Sum("ossuary.key_updates", ("ossuary.direction", "received")));
        // Every record sealed here was opened there: both sides live in this process.
        Assert.True(recorder.Sum("ossuary.records.sent") >= 200_000 / 16_384);
        Assert.Equal(recorder.Sum("ossuary.records.sent"), recorder.Sum("ossuary.records.received"));
        Assert.Equal(recorder.Sum("ossuary.bytes.sent"), recorder.Sum("ossuary.bytes.received"));
        Assert.True(recorder.Sum("ossuary.bytes.sent") > 200_000);

        Activity[] spans = recorder.Activities.ToArray();
        Assert.Equal(2, spans.Length);
        Activity clientSpan = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
        Activity serverSpan = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(TestKeys.Server.PublicKey.Fingerprint, clientSpan.GetTagItem("ossuary.peer.fingerprint"));
        Assert.Equal(TestKeys.Client.PublicKey.Fingerprint, serverSpan.GetTagItem("ossuary.peer.fingerprint"));
        foreach (Activity span in spans)
        {
            Assert.Equal("XX", span.GetTagItem("ossuary.pattern"));
            Assert.Equal("ChaChaPolyBlake2b", span.GetTagItem("ossuary.suite"));
            Assert.Equal("completed", span.GetTagItem("ossuary.outcome"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }
    }

    [Fact]
    public async Task ARejectedClientIsAHandshakeFailureOnTheServerAConnectionFailureOnTheClientAndEvents()
    {
        using var recorder = new Recorder();
        using var events = new FailureEvents();
        await using OssuaryListener listener = Loopback.Listen();
        var intruder = new OssuaryClientOptions { StaticKeyPair = TestKeys.Other, PeerVerifier = PeerVerifier.Pinned(TestKeys.Server.PublicKey) };
        // XX: the client has finished when it sends message 3; the server's verdict reaches it as an alert.
        await using (OssuaryStream client = await Loopback.Connect(listener, intruder))
        {
            OssuaryException failure = await Assert.ThrowsAsync<OssuaryException>(async () => await client.ReadExactlyAsync(new byte[1]));
            Assert.Equal(OssuaryErrorCode.PeerRejected, failure.ErrorCode);
        }
        Assert.True(SpinWait.SpinUntil(() => listener.FailedHandshakes == 1 && recorder.Activities.Count == 2, Loopback.Guard));

        Assert.Equal(1, recorder.Sum("ossuary.handshakes.failed", ("ossuary.role", "server"), ("ossuary.pattern", "XX"), ("error.type", "PeerRejected")));
        Assert.Equal(1, recorder.Sum("ossuary.verifications", ("ossuary.verdict", "rejected")));
        Assert.Equal(0, recorder.Count("ossuary.handshakes.completed", ("ossuary.role", "server")));
        Assert.Equal(1, recorder.Sum("ossuary.handshakes.completed", ("ossuary.role", "client")));
        Assert.Equal(1, recorder.Sum("ossuary.connections.failed", ("ossuary.role", "client"), ("error.type", "PeerRejected")));
        Assert.Equal(0, recorder.Sum("ossuary.connections.active"));

        Activity serverSpan = Assert.Single(recorder.Activities, s => s.Kind == ActivityKind.Server);
        Assert.Equal(ActivityStatusCode.Error, serverSpan.Status);
        Assert.Equal("PeerRejected", serverSpan.GetTagItem("error.type"));
        Assert.Equal(1, recorder.Count("ossuary.handshake.duration", ("ossuary.role", "server"), ("ossuary.outcome", "failed")));

        Assert.Single(events.Events, e => e.EventName == "HandshakeFailed" && (string?)e.Payload![0] == "server" && (string?)e.Payload[2] == "PeerRejected");
        Assert.Single(events.Events, e => e.EventName == "ConnectionFailed" && (string?)e.Payload![0] == "client" && (string?)e.Payload[1] == "PeerRejected");
        // No key in any event: only role, pattern and code.
        Assert.All(events.Events, e => Assert.DoesNotContain(e.Payload!, p => p is string text && text.Contains(TestKeys.Other.PublicKey.ToString())));
    }

    [Fact]
    public void DatagramDropsAreCountedByReason()
    {
        using var recorder = new Recorder();
        var endpoint = new DatagramEndpoint(new DatagramOptions { Identity = TestKeys.Server, AcceptConnections = true }, TimeSpan.Zero);
        endpoint.HandleDatagram(new byte[] { 1, 0, 0 }, "peer"u8, TimeSpan.Zero);
        endpoint.HandleDatagram(new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "peer"u8, TimeSpan.Zero);

        Assert.Equal(2, endpoint.Statistics.TotalDropped);
        foreach (DatagramDropReason reason in Enum.GetValues<DatagramDropReason>())
        {
            Assert.Equal(endpoint.Statistics.Dropped(reason), recorder.Sum("ossuary.datagrams.dropped", ("ossuary.drop_reason", reason.ToString())));
        }
        Assert.Equal(2, recorder.Sum("ossuary.datagrams.dropped"));
    }
}
