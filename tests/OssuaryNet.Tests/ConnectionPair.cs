using System.Buffers;
using OssuaryNet.Trust;

namespace OssuaryNet.Tests;

/// <summary>
/// Two connections joined by in-memory byte queues. <see cref="Pump"/> moves bytes both ways until neither side has
/// anything left to say, recording everything each side sent so tests can replay, cut or tamper with it.
/// </summary>
internal sealed class ConnectionPair : IDisposable
{
    public ConnectionPair(OssuaryClientOptions clientOptions, OssuaryServerOptions serverOptions, string? serverName = "server.test:7000", string? clientEndpoint = "127.0.0.1:50000")
    {
        Client = OssuaryConnection.CreateClient(clientOptions, serverName);
        Server = OssuaryConnection.CreateServer(serverOptions, clientEndpoint);
    }

    public OssuaryConnection Client { get; }
    public OssuaryConnection Server { get; }
    public List<byte> ToServer { get; } = [];
    public List<byte> ToClient { get; } = [];
    public List<byte> ClientToServerTranscript { get; } = [];
    public List<byte> ServerToClientTranscript { get; } = [];
    public List<byte> ClientReceived { get; } = [];
    public List<byte> ServerReceived { get; } = [];

    public static OssuaryClientOptions ClientOptions(PeerVerifier? verifier = null, bool pinServer = false, byte seed = 1) => new()
    {
        StaticKeyPair = TestKeys.Client,
        PeerVerifier = verifier ?? PeerVerifier.Pinned(TestKeys.Server.PublicKey),
        ServerKey = pinServer ? TestKeys.Server.PublicKey : null,
        EphemeralKeySource = TestKeys.Deterministic(seed),
    };

    public static OssuaryServerOptions ServerOptions(PeerVerifier? verifier = null, byte seed = 2) => new()
    {
        StaticKeyPair = TestKeys.Server,
        PeerVerifier = verifier ?? PeerVerifier.Pinned(TestKeys.Client.PublicKey),
        EphemeralKeySource = TestKeys.Deterministic(seed),
    };

    public static ConnectionPair Established(bool ik = false, Action<OssuaryClientOptions>? client = null, Action<OssuaryServerOptions>? server = null)
    {
        var clientOptions = ClientOptions(pinServer: ik);
        var serverOptions = ServerOptions();
        client?.Invoke(clientOptions);
        server?.Invoke(serverOptions);
        var pair = new ConnectionPair(clientOptions, serverOptions);
        pair.Pump();
        if (pair.Client.State != OssuaryConnectionState.Established || pair.Server.State != OssuaryConnectionState.Established)
        {
            throw new InvalidOperationException($"Handshake did not complete: client {pair.Client.State}, server {pair.Server.State}.");
        }
        return pair;
    }

    /// <summary>Moves bytes both ways until quiet.</summary>
    public void Pump()
    {
        for (int round = 0; round < 1000; round++)
        {
            bool moved = Step(Client, ToClient, ToServer, ClientToServerTranscript, ClientReceived);
            moved |= Step(Server, ToServer, ToClient, ServerToClientTranscript, ServerReceived);
            if (!moved)
            {
                return;
            }
        }
        throw new InvalidOperationException("The pair did not go quiet.");
    }

    public void ClientSends(ReadOnlySpan<byte> data) => SendAll(Client, data, ToServer, ClientToServerTranscript);

    public void ServerSends(ReadOnlySpan<byte> data) => SendAll(Server, data, ToClient, ServerToClientTranscript);

    /// <summary>Seals all of <paramref name="data"/> and appends the bytes to transmit to <paramref name="outbox"/>.</summary>
    public static void SendAll(OssuaryConnection connection, ReadOnlySpan<byte> data, List<byte> outbox, List<byte>? transcript = null)
    {
        var writer = new ArrayBufferWriter<byte>();
        OssuaryStatus status = connection.Send(data, writer);
        if (status != OssuaryStatus.Done)
        {
            throw new InvalidOperationException($"Send returned {status}.");
        }
        outbox.AddRange(writer.WrittenSpan);
        transcript?.AddRange(writer.WrittenSpan);
    }

    /// <summary>Feeds <paramref name="inbox"/> to <paramref name="connection"/>, collecting plaintext and sending any replies.</summary>
    private static bool Step(OssuaryConnection connection, List<byte> inbox, List<byte> outbox, List<byte> transcript, List<byte> received)
    {
        if (connection.State == OssuaryConnectionState.Failed)
        {
            return false;
        }
        int before = outbox.Count + inbox.Count;
        SendAll(connection, default, outbox, transcript);
        byte[] plaintext = new byte[70000];
        while (inbox.Count > 0)
        {
            byte[] input = inbox.ToArray();
            OssuaryStatus status = connection.Receive(input, plaintext, out int consumed, out int written);
            inbox.RemoveRange(0, consumed);
            received.AddRange(plaintext.AsSpan(0, written));
            if (status == OssuaryStatus.PeerVerificationRequired)
            {
                connection.VerifyPendingPeer();
            }
            SendAll(connection, default, outbox, transcript);
            if (status is OssuaryStatus.NeedMoreInput or OssuaryStatus.Closed)
            {
                break;
            }
        }
        return outbox.Count + inbox.Count != before;
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
