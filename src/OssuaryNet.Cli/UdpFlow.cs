using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using CommunityToolkit.HighPerformance.Buffers;
using OssuaryNet.Datagram;

namespace OssuaryNet.Cli;

/// <summary>
/// One local UDP flow of `udp-forward` (one source address): its datagrams wait in a small queue while its secure
/// connection opens, then go through it; replies go back to the flow's sender from the listening socket. Datagrams
/// are held in buffers rented from the shared pool (a bare array each: a pooled owner object per datagram would be
/// an allocation per datagram), returned wiped once sent or dropped; the reply buffer is the flow's own.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "Its CancellationTokenSource has no timer and holds nothing to release; Stop cancels it.")]
internal sealed class UdpFlow(IPEndPoint sender)
{
    private const int QueueLimit = 256;

    private readonly Channel<Held> _outgoing = Channel.CreateBounded<Held>(new BoundedChannelOptions(QueueLimit) { FullMode = BoundedChannelFullMode.DropOldest }, static dropped => dropped.Return());
    private readonly CancellationTokenSource _stop = new();
    private long _lastActive = Environment.TickCount64;
    private OssuaryUdpConnection? _connection;

    public IPEndPoint Sender { get; } = sender;

    public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastActive));

    /// <summary>Whether the flow's connection failed or closed; the sweeper forgets it, and its next datagram opens a new one.</summary>
    public bool Ended { get; private set; }

    public void Enqueue(ReadOnlySpan<byte> datagram)
    {
        Volatile.Write(ref _lastActive, Environment.TickCount64);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        if (!_outgoing.Writer.TryWrite(new Held(buffer, datagram.Length)))
        {
            new Held(buffer, datagram.Length).Return(); // the flow has stopped
        }
    }

    public void Run(Task<OssuaryUdpConnection> connecting, string serverName, Socket plain, int maxPayload, Output output) => _ = Task.Run(async () =>
    {
        try
        {
            OssuaryUdpConnection connection = _connection = await connecting;
            output.Detail($"flow from {Sender} -> {connection.RemoteEndPoint} ({connection.PeerFingerprint})");
            Task replies = RelayRepliesAsync(connection, plain, maxPayload);
            await foreach (Held datagram in _outgoing.Reader.ReadAllAsync(_stop.Token))
            {
                try
                {
                    if (datagram.Length > maxPayload)
                    {
                        output.Detail($"a {datagram.Length}-byte datagram from {Sender} is larger than a tunnel datagram ({maxPayload}): dropped");
                        continue;
                    }
                    await connection.SendAsync(datagram.Buffer.AsMemory(0, datagram.Length));
                }
                finally
                {
                    datagram.Return();
                }
            }
            await replies;
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.PeerKeyChanged)
        {
            Program.PrintKeyChangedBanner(serverName);
            output.Note($"flow from {Sender}: {ExitCodes.Classify(e).Message}");
        }
        catch (Exception e) when (e is OssuaryException or OperationCanceledException or InvalidOperationException or SocketException)
        {
            output.Detail($"flow from {Sender}: {e.Message}");
        }
        finally
        {
            Ended = true;
        }
    });

    private async Task RelayRepliesAsync(OssuaryUdpConnection connection, Socket plain, int maxPayload)
    {
        using MemoryOwner<byte> buffer = MemoryOwner<byte>.Allocate(maxPayload);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                DatagramReceiveResult got = await connection.ReceiveAsync(buffer.Memory, _stop.Token);
                if (got.IsClosed)
                {
                    _stop.Cancel();
                    return;
                }
                Volatile.Write(ref _lastActive, Environment.TickCount64);
                await plain.SendToAsync(buffer.Memory[..got.Length], SocketFlags.None, Sender);
            }
        }
        finally
        {
            buffer.Span.Clear(); // a reply's plaintext
        }
    }

    /// <summary>Ends the flow: its connection closes with <paramref name="code"/> (<see cref="DatagramCloseCodes.Idle"/> when it went quiet).</summary>
    public void Stop(ushort code)
    {
        _stop.Cancel();
        _outgoing.Writer.TryComplete();
        while (_outgoing.Reader.TryRead(out Held left))
        {
            left.Return();
        }
        _connection?.Close(code);
    }

    /// <summary>A datagram waiting in a pooled buffer.</summary>
    private readonly record struct Held(byte[] Buffer, int Length)
    {
        public void Return() => ArrayPool<byte>.Shared.Return(Buffer, clearArray: true);
    }
}
