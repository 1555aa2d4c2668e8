using System.Buffers.Binary;

namespace OssuaryNet.Adversarial;

/// <summary>
/// One side of a simulated session: an <see cref="OssuaryConnection"/> driven with random destination sizes and
/// input chunking, every call checked against the invariants that hold whatever the peer or the path does.
/// </summary>
/// <remarks>
/// Invariants checked here (violations are collected, never thrown):
/// only <see cref="OssuaryException"/> escapes, with a defined code other than InternalError; counts stay within the
/// spans; a Receive that fails the connection without throwing does so only after handing over plaintext, and the
/// next call throws; a paused handshake always shows the peer to verify; failure is sticky (every later call reports
/// the first code); after a failure the side emits nothing but the rest of a frame already partly emitted and at
/// most one clear alert, and no alert at all if it had entered the transport phase.
/// </remarks>
internal sealed class Party
{
    private readonly Random _random;
    private readonly List<string> _violations;
    private readonly List<byte> _afterFailure = [];
    private int _frameRemaining; // bytes still owed of the frame being emitted (0 between frames)
    private int _frameHeader = -1;

    public Party(string name, OssuaryConnection connection, Random random, List<string> violations)
    {
        Name = name;
        Connection = connection;
        _random = random;
        _violations = violations;
    }

    public string Name { get; }

    public OssuaryConnection Connection { get; }

    /// <summary>The first failure, once there is one.</summary>
    public OssuaryException? Failure { get; private set; }

    /// <summary>Whether the side was in its transport phase when it failed.</summary>
    private bool _failedInTransport;

    /// <summary>How much of the frame in flight the failure left owed.</summary>
    private int _owedAtFailure;

    /// <summary>Plaintext handed to the application, in order.</summary>
    public List<byte> Received { get; } = [];

    /// <summary>Plaintext the application gave to Send and that was consumed.</summary>
    public List<byte> SentPlaintext { get; } = [];

    /// <summary>Input bytes the connection consumed.</summary>
    public long Consumed { get; private set; }

    public bool Failed => Failure is not null;

    public bool Established => !Failed && Connection.State is OssuaryConnectionState.Established or OssuaryConnectionState.Closed;

    /// <summary>Drains what the side wants to send into <paramref name="wire"/>, in random-sized pieces.</summary>
    public void Drain(Wire wire)
    {
        for (int guard = 0; guard < 10_000; guard++)
        {
            byte[] destination = new byte[RandomSize()];
            int written = 0;
            OssuaryStatus? status = Call("Send(drain)", () => Connection.Send(default, destination, out _, out written), allowDrainAfterFailure: true);
            if (status is null)
            {
                return;
            }
            Emit(destination.AsSpan(0, written), wire);
            if (status == OssuaryStatus.Done && !Connection.HasPendingOutput)
            {
                return;
            }
            if (status == OssuaryStatus.DestinationTooSmall && destination.Length >= Connection.RequiredDestinationSize && written == 0)
            {
                Violation($"Send made no progress with {destination.Length} bytes although {Connection.RequiredDestinationSize} were asked for");
                return;
            }
        }
        Violation("draining never finished");
    }

    /// <summary>Seals <paramref name="data"/> (all of it, unless the side fails) and puts the records on the wire.</summary>
    public void SendData(byte[] data, Wire wire)
    {
        int offset = 0;
        for (int guard = 0; guard < 100_000 && offset < data.Length && !Failed; guard++)
        {
            byte[] destination = new byte[Math.Max(RandomSize(), _random.Next(4) == 0 ? Connection.RequiredDestinationSize : 0)];
            int consumed = 0, written = 0;
            OssuaryStatus? status = Call("Send", () => Connection.Send(data.AsSpan(offset), destination, out consumed, out written));
            if (status is null)
            {
                return;
            }
            if (consumed < 0 || consumed > data.Length - offset || written < 0 || written > destination.Length)
            {
                Violation($"Send counts out of range: consumed {consumed}, written {written}");
                return;
            }
            SentPlaintext.AddRange(data.AsSpan(offset, consumed).ToArray());
            offset += consumed;
            Emit(destination.AsSpan(0, written), wire);
        }
        if (offset < data.Length && !Failed)
        {
            Violation("Send never consumed all the data");
        }
    }

    /// <summary>Feeds what is in flight to the side, in random chunks and random destination sizes; returns whether anything moved.</summary>
    public bool ReceiveFrom(Wire input, Wire output)
    {
        bool moved = false;
        bool plaintextPending = false;
        for (int guard = 0; guard < 100_000 && (input.InFlight.Count > 0 || plaintextPending); guard++)
        {
            if (Failed)
            {
                // A failed connection is closed by its application: what is still in flight is never read.
                CheckStickyReceive(input);
                input.InFlight.Clear();
                return true;
            }
            int chunk = Math.Min(input.InFlight.Count, _random.Next(3) switch { 0 => 1 + _random.Next(8), 1 => 1 + _random.Next(300), _ => input.InFlight.Count });
            byte[] source = [.. input.InFlight.GetRange(0, chunk)];
            byte[] destination = new byte[RandomSize()];
            int consumed = 0, written = 0;
            bool wasTransport = Established;
            OssuaryStatus? status = Call("Receive", () => Connection.Receive(source, destination, out consumed, out written), wasTransport: wasTransport);
            if (status is null)
            {
                Drain(output);
                return true;
            }
            if (consumed < 0 || consumed > source.Length || written < 0 || written > destination.Length)
            {
                Violation($"Receive counts out of range: consumed {consumed} of {source.Length}, written {written} of {destination.Length}");
                return moved;
            }
            // A frame that failed after authentic plaintext of the same call: the plaintext is returned normally.
            bool failedAfterPlaintext = Connection.State == OssuaryConnectionState.Failed;
            if (failedAfterPlaintext && written == 0)
            {
                Violation("Receive failed the connection without throwing and without plaintext");
            }
            plaintextPending = status == OssuaryStatus.DestinationTooSmall;
            input.InFlight.RemoveRange(0, consumed);
            Consumed += consumed;
            Received.AddRange(destination.AsSpan(0, written).ToArray());
            moved |= consumed > 0 || written > 0;
            if (status == OssuaryStatus.PeerVerificationRequired)
            {
                if (Connection.PeerToVerify is not { } peer)
                {
                    Violation("PeerVerificationRequired without a peer to verify");
                    return moved;
                }
                Call("CompletePeerVerification", () => Connection.CompletePeerVerification(Connection.PeerVerifier.VerifyAsync(peer).AsTask().GetAwaiter().GetResult()));
                Drain(output);
                continue;
            }
            if (failedAfterPlaintext)
            {
                // The next call reports the failure; it must carry the same code as every later one.
                Call("Receive(after plaintext and failure)", () => Connection.Receive(default, destination, out _, out _), wasTransport: wasTransport);
                if (!Failed)
                {
                    Violation("the call after Failed did not throw");
                }
                Drain(output);
                return true;
            }
            Drain(output);
            if (status == OssuaryStatus.Closed)
            {
                if (consumed > 0)
                {
                    continue;
                }
                // Input after the peer's close is never consumed (docs/PROTOCOL.md 5.5): the application stops reading.
                input.InFlight.Clear();
                return true;
            }
            if (consumed == 0 && written == 0 && status is OssuaryStatus.NeedMoreInput && chunk == input.InFlight.Count)
            {
                return moved;
            }
            if (consumed == 0 && written == 0 && status is OssuaryStatus.NeedMoreInput)
            {
                Violation($"Receive consumed nothing of {chunk} bytes and asked for more");
                return moved;
            }
        }
        return moved;
    }

    /// <summary>The transport delivered its last byte.</summary>
    public void EndOfInput(Wire output)
    {
        if (Failed)
        {
            Call("CompleteInput(after failure)", Connection.CompleteInput);
            return;
        }
        Call("CompleteInput", Connection.CompleteInput, wasTransport: Established);
        Drain(output);
    }

    /// <summary>Runs an application action (ping, key update, close) if the side is established.</summary>
    public void Act(Action action, string name, Wire output)
    {
        if (!Established || Connection.IsLocalClosed)
        {
            return;
        }
        Call(name, action, wasTransport: true);
        Drain(output);
    }

    /// <summary>Checks, at the end of the session, what the side emitted after it failed.</summary>
    public void CheckOutputAfterFailure()
    {
        if (Failure is null)
        {
            return;
        }
        byte[] after = [.. _afterFailure];
        if (after.Length < _owedAtFailure)
        {
            return; // still draining the frame in flight: nothing extra was emitted
        }
        ReadOnlySpan<byte> extra = after.AsSpan(_owedAtFailure);
        if (extra.IsEmpty)
        {
            return;
        }
        if (_failedInTransport)
        {
            Violation($"emitted {extra.Length} bytes after failing in the transport phase ({Failure.ErrorCode})");
            return;
        }
        if (extra.Length != 4 || extra[0] != 0 || extra[1] != 2 || extra[2] != 0x15 || !Enum.IsDefined((OssuaryErrorCode)extra[3]))
        {
            Violation($"emitted {Convert.ToHexString(extra)} after failing ({Failure.ErrorCode}); only one clear alert is allowed");
        }
    }

    private void CheckStickyReceive(Wire input)
    {
        byte[] source = [.. input.InFlight.Take(64)];
        Call("Receive(after failure)", () => Connection.Receive(source, new byte[100], out _, out _));
    }

    private int RandomSize() => _random.Next(5) switch
    {
        0 => _random.Next(0, 4),
        1 => _random.Next(4, 64),
        2 => _random.Next(64, 2048),
        _ => _random.Next(2048, 70_000),
    };

    /// <summary>Bytes the side emitted: tracked frame by frame so that output after a failure can be judged.</summary>
    private void Emit(ReadOnlySpan<byte> bytes, Wire wire)
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        if (Failed)
        {
            _afterFailure.AddRange(bytes.ToArray());
        }
        foreach (byte b in bytes)
        {
            if (_frameRemaining == 0)
            {
                if (_frameHeader < 0)
                {
                    _frameHeader = b;
                    continue;
                }
                _frameRemaining = _frameHeader << 8 | b;
                _frameHeader = -1;
                continue;
            }
            _frameRemaining--;
        }
        wire.Accept(bytes);
    }

    private OssuaryStatus? Call(string operation, Func<OssuaryStatus> call, bool allowDrainAfterFailure = false, bool wasTransport = false)
    {
        OssuaryStatus? result = null;
        Call(operation, () => { result = call(); }, allowDrainAfterFailure, wasTransport);
        return Failed && result is not null && !allowDrainAfterFailure ? null : result;
    }

    private void Call(string operation, Action call, bool allowDrainAfterFailure = false, bool wasTransport = false)
    {
        OssuaryException? before = Failure;
        try
        {
            call();
            if (before is not null && !allowDrainAfterFailure)
            {
                Violation($"{operation} succeeded after the side had failed with {before.ErrorCode}");
            }
        }
        catch (OssuaryException e)
        {
            if (!Enum.IsDefined(e.ErrorCode) || e.ErrorCode == OssuaryErrorCode.InternalError)
            {
                Violation($"{operation} threw code {e.ErrorCode}: {e.Message} {e.InnerException}");
            }
            if (before is null)
            {
                Failure = e;
                _failedInTransport = wasTransport;
                _owedAtFailure = _frameRemaining + (_frameHeader >= 0 ? 1 : 0);
            }
            else if (e.ErrorCode != before.ErrorCode)
            {
                Violation($"{operation} after failure threw {e.ErrorCode}, not the sticky {before.ErrorCode}");
            }
        }
        catch (Exception e)
        {
            Violation($"{operation} threw {e.GetType().Name}: {e.Message}");
            Failure ??= new OssuaryException(OssuaryErrorCode.InternalError, e.Message);
        }
        if (Failure is not null && Connection.State != OssuaryConnectionState.Failed)
        {
            Violation($"after {Failure.ErrorCode} the state is {Connection.State}, not Failed");
        }
    }

    private void Violation(string what) => _violations.Add($"{Name}: {what}");
}
