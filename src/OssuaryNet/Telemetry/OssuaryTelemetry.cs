using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace OssuaryNet.Telemetry;

/// <summary>
/// The library's instruments, all under the name "OssuaryNet": a <see cref="Meter"/> for counts and durations, an
/// <see cref="ActivitySource"/> for one span per stream handshake, and <see cref="OssuaryEventSource"/> for failures.
/// Nothing here allocates or takes a lock when nobody listens; no key, plaintext or secret is ever recorded (a
/// fingerprint is public). The sans-I/O core counts what it sees; durations and spans come from the layers that own a
/// clock (<see cref="OssuaryStream"/>), since the core never reads one.
/// </summary>
internal static class OssuaryTelemetry
{
    public const string Name = "OssuaryNet";

    private static readonly string? Version = typeof(OssuaryTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static readonly Meter Meter = new(Name, Version);
    public static readonly ActivitySource Source = new(Name, Version);

    private static readonly Counter<long> HandshakesStarted = Meter.CreateCounter<long>(
        "ossuary.handshakes.started", "{handshake}", "Handshakes begun, by role.");
    private static readonly Counter<long> HandshakesCompleted = Meter.CreateCounter<long>(
        "ossuary.handshakes.completed", "{handshake}", "Handshakes that completed with a verified peer, by role, pattern and suite.");
    private static readonly Counter<long> HandshakesFailed = Meter.CreateCounter<long>(
        "ossuary.handshakes.failed", "{handshake}", "Handshakes that failed, by role, pattern (when known) and error code (error.type).");
    private static readonly Histogram<double> HandshakeDuration = Meter.CreateHistogram(
        "ossuary.handshake.duration", "s", "Time from the start of a stream handshake to its end, by role, pattern and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    private static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>(
        "ossuary.connections.active", "{connection}", "Connections past their handshake and not yet failed or disposed, by role.");
    private static readonly Counter<long> ConnectionsFailed = Meter.CreateCounter<long>(
        "ossuary.connections.failed", "{connection}", "Established connections that failed, by error code (error.type).");
    private static readonly Counter<long> RecordsSent = Meter.CreateCounter<long>(
        "ossuary.records.sent", "{record}", "Transport records sealed (data and control).");
    private static readonly Counter<long> RecordsReceived = Meter.CreateCounter<long>(
        "ossuary.records.received", "{record}", "Transport records that authenticated.");
    private static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(
        "ossuary.bytes.sent", "By", "Bytes of transport records sealed, as they go on the wire.");
    private static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(
        "ossuary.bytes.received", "By", "Bytes of transport records that authenticated, as they came off the wire.");
    private static readonly Counter<long> KeyUpdates = Meter.CreateCounter<long>(
        "ossuary.key_updates", "{update}", "Key updates, by direction (sent: this side rekeyed; received: the peer did).");
    private static readonly Counter<long> Verifications = Meter.CreateCounter<long>(
        "ossuary.verifications", "{verdict}", "Verdicts on peers' static keys, by verdict (accepted or rejected).");

    private static readonly Counter<long> DatagramsDropped = Meter.CreateCounter<long>(
        "ossuary.datagrams.dropped", "{datagram}", "Datagrams a datagram endpoint dropped, by reason (ossuary.drop_reason).");

    private static readonly KeyValuePair<string, object?> Stream = new("ossuary.transport", "stream");
    private static readonly KeyValuePair<string, object?> Datagram = new("ossuary.transport", "datagram");

    private static KeyValuePair<string, object?> Role(bool isClient) => new("ossuary.role", isClient ? "client" : "server");

    private static KeyValuePair<string, object?> PatternTag(OssuaryHandshakePattern? pattern) => new("ossuary.pattern", pattern?.ToString() ?? "unknown");

    private static KeyValuePair<string, object?> ErrorType(OssuaryErrorCode code) => new("error.type", code.ToString());

    public static void HandshakeStarted(bool isClient) => CountStarted(isClient, Stream);

    public static void HandshakeCompleted(bool isClient, OssuaryHandshakePattern pattern, OssuarySuite suite)
    {
        CountCompleted(isClient, pattern, suite, Stream);
        ActiveConnections.Add(1, Role(isClient));
    }

    public static void HandshakeFailed(bool isClient, OssuaryHandshakePattern? pattern, OssuaryErrorCode code) => CountFailed(isClient, pattern, code, Stream);

    /// <summary>A datagram endpoint began a handshake as the initiator (responders count theirs when they complete).</summary>
    public static void DatagramHandshakeStarted() => CountStarted(isClient: true, Datagram);

    /// <summary>A datagram handshake (first or rekey) completed.</summary>
    public static void DatagramHandshakeCompleted(bool isInitiator, OssuaryHandshakePattern pattern, OssuarySuite suite) =>
        CountCompleted(isInitiator, pattern, suite, Datagram);

    /// <summary>A datagram handshake was given up (<c>HandshakeTimeout</c>) or its peer rejected (<c>PeerRejected</c>).</summary>
    public static void DatagramHandshakeFailed(bool isInitiator, OssuaryHandshakePattern pattern, OssuaryErrorCode code) =>
        CountFailed(isInitiator, pattern, code, Datagram);

    private static void CountStarted(bool isClient, KeyValuePair<string, object?> transport)
    {
        if (HandshakesStarted.Enabled)
        {
            HandshakesStarted.Add(1, Role(isClient), transport);
        }
    }

    private static void CountCompleted(bool isClient, OssuaryHandshakePattern pattern, OssuarySuite suite, KeyValuePair<string, object?> transport)
    {
        if (HandshakesCompleted.Enabled)
        {
            HandshakesCompleted.Add(1, Role(isClient), PatternTag(pattern), new("ossuary.suite", suite.ToString()), transport);
        }
    }

    private static void CountFailed(bool isClient, OssuaryHandshakePattern? pattern, OssuaryErrorCode code, KeyValuePair<string, object?> transport)
    {
        if (HandshakesFailed.Enabled)
        {
            HandshakesFailed.Add(1, Role(isClient), PatternTag(pattern), ErrorType(code), transport);
        }
        if (OssuaryEventSource.Log.IsEnabled())
        {
            OssuaryEventSource.Log.HandshakeFailed(isClient ? "client" : "server", pattern?.ToString() ?? "unknown", code.ToString(), (int)code);
        }
    }

    public static void ConnectionFailed(bool isClient, OssuaryErrorCode code)
    {
        if (ConnectionsFailed.Enabled)
        {
            ConnectionsFailed.Add(1, Role(isClient), ErrorType(code));
        }
        if (OssuaryEventSource.Log.IsEnabled())
        {
            OssuaryEventSource.Log.ConnectionFailed(isClient ? "client" : "server", code.ToString(), (int)code);
        }
    }

    /// <summary>Called once per established connection when it fails or is disposed, whichever comes first.</summary>
    public static void ConnectionEnded(bool isClient) => ActiveConnections.Add(-1, Role(isClient));

    public static void RecordSent(int frameBytes)
    {
        RecordsSent.Add(1);
        BytesSent.Add(frameBytes);
    }

    public static void RecordReceived(int frameBytes)
    {
        RecordsReceived.Add(1);
        BytesReceived.Add(frameBytes);
    }

    public static void KeyUpdated(bool sent)
    {
        if (KeyUpdates.Enabled)
        {
            KeyUpdates.Add(1, new KeyValuePair<string, object?>("ossuary.direction", sent ? "sent" : "received"));
        }
    }

    public static void Verified(bool accepted)
    {
        if (Verifications.Enabled)
        {
            Verifications.Add(1, new KeyValuePair<string, object?>("ossuary.verdict", accepted ? "accepted" : "rejected"));
        }
    }

    public static void DatagramDropped(Datagram.DatagramDropReason reason)
    {
        if (DatagramsDropped.Enabled)
        {
            DatagramsDropped.Add(1, new KeyValuePair<string, object?>("ossuary.drop_reason", reason.ToString()));
        }
    }

    /// <summary>Starts the span of a stream handshake, or returns null when nobody samples it.</summary>
    public static Activity? StartHandshake(bool isClient, string? endpoint)
    {
        Activity? activity = Source.StartActivity(isClient ? "ossuary.handshake client" : "ossuary.handshake server",
            isClient ? ActivityKind.Client : ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("ossuary.role", isClient ? "client" : "server");
            if (endpoint is not null)
            {
                activity.SetTag(isClient ? "server.address" : "client.address", endpoint);
            }
        }
        return activity;
    }

    /// <summary>
    /// Ends a stream handshake: its span (if any) gets the outcome, and the duration is recorded. The failure is null
    /// when the handshake completed, otherwise why it did not (a cancellation included).
    /// </summary>
    public static void EndHandshake(Activity? activity, OssuaryConnection connection, TimeSpan elapsed, Exception? failure)
    {
        OssuaryHandshakePattern? pattern = connection.Pattern;
        string outcome = failure is null ? "completed" : "failed";
        if (HandshakeDuration.Enabled)
        {
            HandshakeDuration.Record(elapsed.TotalSeconds, Role(connection.IsClient), PatternTag(pattern), new("ossuary.outcome", outcome));
        }
        if (activity is null)
        {
            return;
        }
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("ossuary.pattern", pattern?.ToString());
            activity.SetTag("ossuary.suite", connection.Suite?.ToString());
            if (connection.RemotePublicKey is { } key)
            {
                activity.SetTag("ossuary.peer.fingerprint", key.Fingerprint);
            }
            activity.SetTag("ossuary.outcome", outcome);
        }
        if (failure is not null)
        {
            string type = failure is OssuaryException ossuary ? ossuary.ErrorCode.ToString() : failure.GetType().Name;
            activity.SetTag("error.type", type);
            activity.SetStatus(ActivityStatusCode.Error, type);
        }
        activity.Dispose();
    }
}
