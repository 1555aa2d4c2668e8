// An echo server: every authenticated client gets its bytes back. Usage: EchoServer [port]
using System.Globalization;
using System.Net;
using OssuaryNet;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

int port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7000;
using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(ExampleFiles.PathOf("echo-server.key")); // made 0600 on first use, under ExampleFiles.Directory

var options = new OssuaryServerOptions { StaticKeyPair = key, PeerVerifier = PeerVerifier.AcceptAny };
await using var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, port), options)
{
    HandshakeFailed = (error, client) => Console.Error.WriteLine($"{client}: {error.Message}"),
};
listener.Start();
Console.WriteLine($"echo server on {listener.LocalEndpoint}, fingerprint {key.PublicKey.Fingerprint}");

while (true)
{
    OssuaryStream stream = await listener.AcceptAsync();
    _ = Task.Run(async () =>
    {
        await using (stream)
        {
            Console.WriteLine($"client {stream.RemotePublicKey!.Fingerprint} connected ({stream.NoiseProtocolName})");
            await stream.CopyToAsync(stream);   // echo until the client's authenticated close
            await stream.ShutdownAsync();
        }
    });
}
