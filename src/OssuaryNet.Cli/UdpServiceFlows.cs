using System.Net;
using System.Net.Sockets;
using CommunityToolkit.HighPerformance.Buffers;
using OssuaryNet.Datagram;
using OssuaryNet.Interop;

namespace OssuaryNet.Cli;

/// <summary>
/// The flows of `udp-serve`: each accepted connection gets a socket of its own to the service (so that replies find
/// their flow), within the process's descriptor limit, and small pooled buffers. A connection exists only once its
/// peer proved its keys and its address (the datagram endpoint's key confirmation), so a stranger's packets never get
/// here; what is bounded here is what authenticated peers can make the tunnel open.
/// </summary>
/// <remarks>
/// A flow is refused (closed with <see cref="DatagramCloseCodes.Busy"/>, one rate-limited line) when its socket would
/// leave fewer than 32 descriptors free or cannot be opened; running out lowers the number of flows allowed for 30 s
/// (<see cref="DescriptorBudget"/>). Every socket is created inside the path that closes it.
/// </remarks>
internal sealed class UdpServiceFlows(IPEndPoint service, TimeSpan idle, int maxPayload, Output output)
{
    private readonly DescriptorBudget _descriptors = new(TimeProvider.System);
    private readonly RateLimitedNote _refusals = new(TimeSpan.FromSeconds(1));
    private int _active;

    /// <summary>Flows being served now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Serves <paramref name="flow"/> in the background, or refuses it when the descriptor budget is spent.</summary>
    public void Serve(OssuaryUdpConnection flow)
    {
        if (Active >= _descriptors.Limit(int.MaxValue))
        {
            Refuse(flow, "out of file descriptors");
            return;
        }
        Interlocked.Increment(ref _active);
        _ = RunAsync(flow);
    }

    private async Task RunAsync(OssuaryUdpConnection flow)
    {
        Socket? socket = null;
        MemoryOwner<byte> toService = MemoryOwner<byte>.Allocate(maxPayload);
        MemoryOwner<byte> fromService = MemoryOwner<byte>.Allocate(maxPayload + 1); // one more: a reply too large for the tunnel shows as such
        using var stop = new CancellationTokenSource();
        ushort code = DatagramCloseCodes.Normal;
        try
        {
            socket = new Socket(service.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            if (DescriptorBudget.LeavesTooFew(socket.SafeHandle))
            {
                _descriptors.RanOut(Active);
                code = DatagramCloseCodes.Busy;
                _refusals.Note(output, $"refused a flow from {flow.RemoteEndPoint} ({flow.PeerFingerprint}): out of file descriptors ({Active} flows open)");
                return;
            }
            await socket.ConnectAsync(service).ConfigureAwait(false);
            long lastActive = Environment.TickCount64;
            Task replies = RelayRepliesAsync(flow, socket, fromService, () => Volatile.Write(ref lastActive, Environment.TickCount64), stop.Token);
            code = await RelayRequestsAsync(flow, socket, toService, () => Volatile.Read(ref lastActive), () => Volatile.Write(ref lastActive, Environment.TickCount64)).ConfigureAwait(false);
            stop.Cancel();
            await replies.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TooManyOpenSockets)
        {
            _descriptors.RanOut(Active);
            code = DatagramCloseCodes.Busy;
            _refusals.Note(output, $"refused a flow from {flow.RemoteEndPoint} ({flow.PeerFingerprint}): out of file descriptors ({Active} flows open)");
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or InvalidOperationException)
        {
            output.Detail($"flow from {flow.RemoteEndPoint}: {e.Message}");
        }
        finally
        {
            stop.Cancel();
            socket?.Dispose();
            flow.Close(code);
            toService.Span.Clear(); // plaintext of the flow
            fromService.Span.Clear();
            toService.Dispose();
            fromService.Dispose();
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>The flow's datagrams to the service until the flow closes or both directions were idle for <c>idle</c>; returns the close code.</summary>
    private async Task<ushort> RelayRequestsAsync(OssuaryUdpConnection flow, Socket socket, MemoryOwner<byte> buffer, Func<long> lastActive, Action touch)
    {
        // One deadline for the flow, re-armed by every datagram; a new one only after it fired while the service spoke.
        var wait = new CancellationTokenSource(idle);
        try
        {
            while (true)
            {
                DatagramReceiveResult got;
                try
                {
                    got = await flow.ReceiveAsync(buffer.Memory, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                    long quiet = Environment.TickCount64 - lastActive();
                    if (quiet >= idle.TotalMilliseconds)
                    {
                        return DatagramCloseCodes.Idle;
                    }
                    wait.Dispose();
                    wait = new CancellationTokenSource(idle - TimeSpan.FromMilliseconds(quiet)); // the service spoke lately
                    continue;
                }
                if (got.IsClosed)
                {
                    return DatagramCloseCodes.Normal;
                }
                touch();
                wait.CancelAfter(idle);
                await socket.SendAsync(buffer.Memory[..got.Length], SocketFlags.None).ConfigureAwait(false);
            }
        }
        finally
        {
            wait.Dispose();
        }
    }

    private async Task RelayRepliesAsync(OssuaryUdpConnection flow, Socket socket, MemoryOwner<byte> buffer, Action touch, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await socket.ReceiveAsync(buffer.Memory, SocketFlags.None, stop).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                length = buffer.Length; // truncated: larger than any tunnel datagram
            }
            touch();
            if (length <= maxPayload)
            {
                await flow.SendAsync(buffer.Memory[..length], stop).ConfigureAwait(false);
            }
            else
            {
                output.Detail($"a reply of more than {maxPayload} bytes to {flow.RemoteEndPoint} is larger than a tunnel datagram: dropped");
            }
        }
    }

    private void Refuse(OssuaryUdpConnection flow, string why)
    {
        flow.Close(DatagramCloseCodes.Busy);
        _refusals.Note(output, $"refused a flow from {flow.RemoteEndPoint} ({flow.PeerFingerprint}): {why} ({Active} flows open)");
    }
}
