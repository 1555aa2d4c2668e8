namespace OssuaryNet.Tests.Model;

/// <summary>What the application does in one step of a model-based run.</summary>
public enum CommandKind
{
    Send,
    Ping,
    KeyUpdate,
    Close,
    Deliver,
    CompleteInput,
}

/// <summary>
/// One step: <see cref="ByClient"/> picks the side that acts (for <see cref="CommandKind.Deliver"/>, the side whose
/// bytes in flight are delivered to its peer, in pieces of <see cref="Chunk"/> bytes); <see cref="Size"/> is the data
/// or ping length. Written as text in the regression corpus: "Send c 100 7".
/// </summary>
public sealed record Command(CommandKind Kind, bool ByClient, int Size, int Chunk)
{
    public override string ToString() => $"{Kind} {(ByClient ? "c" : "s")} {Size} {Chunk}";

    public static Command Parse(string text)
    {
        string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new(Enum.Parse<CommandKind>(parts[0]), parts[1] == "c", int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>A record on the wire, as the model sees it.</summary>
internal enum WireEvent
{
    Data,
    Ping,
    Pong,
    KeyUpdate,
    Close,
}

/// <summary>
/// The reference model of one side of an established connection: what the application should observe, written
/// from docs/PROTOCOL.md and the API documentation alone, without looking at how the connection does it.
/// </summary>
internal sealed class SideModel
{
    /// <summary>What the side has put on the wire and the peer has not yet processed, in order.</summary>
    public List<(WireEvent Event, byte[] Data)> InFlight { get; } = [];

    public List<byte> Received { get; } = [];
    public bool LocalClosed { get; set; }
    public bool RemoteClosed { get; set; }
    public OssuaryErrorCode? Failure { get; set; }
    public long PongsReceived { get; set; }
    public long SendKeyUpdates { get; set; }
    public long ReceiveKeyUpdates { get; set; }

    public OssuaryConnectionState State => Failure is not null ? OssuaryConnectionState.Failed
        : LocalClosed && RemoteClosed ? OssuaryConnectionState.Closed
        : OssuaryConnectionState.Established;

    /// <summary>The error the application should get for <paramref name="kind"/> now, or null when it succeeds.</summary>
    /// <summary>
    /// What a command must produce: null for success, the <see cref="OssuaryErrorCode"/> of a fatal failure, or the
    /// standard exception type of a caller's mistake (which changes nothing). Arguments are checked first.
    /// </summary>
    public object? ExpectedOutcome(CommandKind kind, int size) => kind == CommandKind.Ping && size > 64 ? typeof(ArgumentException)
        : Failure is { } failure ? failure
        : kind switch
        {
            CommandKind.Send when LocalClosed && size > 0 => typeof(InvalidOperationException), // an empty send only drains
            CommandKind.KeyUpdate when LocalClosed => typeof(InvalidOperationException),
            CommandKind.Ping when LocalClosed => typeof(InvalidOperationException),
            CommandKind.CompleteInput when !RemoteClosed => OssuaryErrorCode.Truncated,
            _ => null,
        };

    /// <summary>Applies what the peer sent, as the receiver must: in order, answering pings while it can still send.</summary>
    public void Process(SideModel sender)
    {
        foreach ((WireEvent kind, byte[] data) in sender.InFlight)
        {
            if (RemoteClosed)
            {
                break; // nothing after the close is processed
            }
            switch (kind)
            {
                case WireEvent.Data:
                    Received.AddRange(data);
                    break;
                case WireEvent.Ping when !LocalClosed:
                    InFlight.Add((WireEvent.Pong, data));
                    break;
                case WireEvent.Pong:
                    PongsReceived++;
                    break;
                case WireEvent.KeyUpdate:
                    ReceiveKeyUpdates++;
                    break;
                case WireEvent.Close:
                    RemoteClosed = true;
                    break;
            }
        }
        sender.InFlight.Clear();
    }
}
