// A handshake between two in-process peers over an in-memory "wire", driving the sans-I/O core by hand:
// first contact (XX, trust on first use), then a second connection that pins the recorded key (IK).
using System.Buffers;
using OssuaryNet;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

string knownHostsPath = Path.Combine(Path.GetTempPath(), $"ossuary-demo-{Environment.ProcessId}-known_hosts");
using var clientKey = OssuaryKeyPair.Generate();
using var serverKey = OssuaryKeyPair.Generate();
var knownHosts = new KnownHosts(knownHostsPath);
const string endpoint = "demo-server:7000";

Console.WriteLine($"client key {clientKey.PublicKey}  fingerprint {clientKey.PublicKey.Fingerprint}");
Console.WriteLine($"server key {serverKey.PublicKey}  fingerprint {serverKey.PublicKey.Fingerprint}");
try
{
    for (int round = 1; round <= 2; round++)
    {
        // A key recorded for the endpoint makes the connection pin it (IK); the demo only reports which.
        OssuaryPublicKey? pinned = knownHosts.Lookup(endpoint);
        using var client = OssuaryConnection.CreateClient(new OssuaryClientOptions
        {
            StaticKeyPair = clientKey,
            PeerVerifier = knownHosts,
            ApplicationContext = "ossuary-demo",
        }, endpoint);
        using var server = OssuaryConnection.CreateServer(new OssuaryServerOptions
        {
            StaticKeyPair = serverKey,
            PeerVerifier = PeerVerifier.Pinned(clientKey.PublicKey),
            ApplicationContext = "ossuary-demo",
        }, "demo-client");

        var toServer = new ArrayBufferWriter<byte>();
        var toClient = new ArrayBufferWriter<byte>();
        client.Send(default, toServer);
        while (client.State == OssuaryConnectionState.Handshaking || server.State == OssuaryConnectionState.Handshaking)
        {
            Deliver(toServer, server, toClient);
            Deliver(toClient, client, toServer);
        }
        Console.WriteLine();
        Console.WriteLine($"connection {round}: {client.NoiseProtocolName} ({(pinned is null ? "first contact, key recorded in known hosts" : "server key pinned from known hosts")})");
        Console.WriteLine($"  client sees server {client.RemotePublicKey!.Fingerprint}");
        Console.WriteLine($"  server sees client {server.RemotePublicKey!.Fingerprint}");
        Console.WriteLine($"  handshake hash     {Convert.ToHexStringLower(client.HandshakeHash)[..32]}... (same on both sides: {client.HandshakeHash.SequenceEqual(server.HandshakeHash)})");

        byte[] message = System.Text.Encoding.UTF8.GetBytes($"hello over connection {round}");
        var wire = new ArrayBufferWriter<byte>();
        client.Send(message, wire);
        client.Close();
        client.Send(default, wire);
        byte[] plaintext = new byte[1024];
        server.Receive(wire.WrittenSpan, plaintext, out _, out int written);
        Console.WriteLine($"  {wire.WrittenCount} bytes on the wire carried \"{System.Text.Encoding.UTF8.GetString(plaintext, 0, written)}\"; peer closed cleanly: {server.IsRemoteClosed}");
    }
}
finally
{
    File.Delete(knownHostsPath);
    File.Delete(knownHostsPath + ".lock");
}

static void Deliver(ArrayBufferWriter<byte> wire, OssuaryConnection receiver, ArrayBufferWriter<byte> replies)
{
    ReadOnlySpan<byte> input = wire.WrittenSpan;
    while (!input.IsEmpty)
    {
        OssuaryStatus status = receiver.Receive(input, Span<byte>.Empty, out int consumed, out _);
        input = input[consumed..];
        if (status == OssuaryStatus.PeerVerificationRequired)
        {
            // The peer proved its key; the connection waits for a verdict. Deciding may take time (a file, a person),
            // so it happens here, outside the connection, and the answer is handed back.
            ValueTask<PeerVerdict> verdict = receiver.PeerVerifier.VerifyAsync(receiver.PeerToVerify!);
            receiver.CompletePeerVerification(verdict.IsCompletedSuccessfully ? verdict.Result : verdict.AsTask().GetAwaiter().GetResult());
        }
        receiver.Send(default, replies);
    }
    wire.ResetWrittenCount();
}
