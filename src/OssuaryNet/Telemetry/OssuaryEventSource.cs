using System.Diagnostics.Tracing;

namespace OssuaryNet.Telemetry;

/// <summary>
/// Failures as events, so that dotnet-trace and other EventPipe tools see them without code changes
/// (provider "OssuaryNet"). Events carry the role, the pattern and the error code, never a key, a peer's text or
/// any plaintext.
/// </summary>
[EventSource(Name = OssuaryTelemetry.Name)]
internal sealed class OssuaryEventSource : EventSource
{
    public static readonly OssuaryEventSource Log = new();

    private OssuaryEventSource()
    {
    }

    /// <summary>A handshake failed (any role, any reason, the peer's alert included).</summary>
    [Event(1, Level = EventLevel.Warning, Message = "{0} handshake ({1}) failed: {2}")]
    public void HandshakeFailed(string role, string pattern, string errorCode, int errorNumber)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.None))
        {
            WriteEvent(1, role, pattern, errorCode, errorNumber);
        }
    }

    /// <summary>An established connection failed: a record that did not authenticate, a truncated close, a peer's alert.</summary>
    [Event(2, Level = EventLevel.Warning, Message = "{0} connection failed: {1}")]
    public void ConnectionFailed(string role, string errorCode, int errorNumber)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.None))
        {
            WriteEvent(2, role, errorCode, errorNumber);
        }
    }
}
