// An echo client: sends each line of standard input and prints the echo. Usage: EchoClient [host] [port]
using System.Globalization;
using OssuaryNet;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

string host = args.Length > 0 ? args[0] : "127.0.0.1";
int port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7000;
using var key = OssuaryKeyPair.Generate();
var options = new OssuaryClientOptions { StaticKeyPair = key, PeerVerifier = new KnownHosts(ExampleFiles.PathOf("known_hosts")) };

try
{
    await using OssuaryStream stream = await OssuaryClient.ConnectAsync(host, port, options);
    Console.WriteLine($"connected to {stream.RemotePublicKey!.Fingerprint} with {stream.NoiseProtocolName}");
    using var reader = new StreamReader(stream);
    while (Console.ReadLine() is { } line)
    {
        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
        Console.WriteLine($"echo: {await reader.ReadLineAsync()}");
    }
    await stream.ShutdownAsync();
    return 0;
}
catch (IOException e) // every network and protocol failure (OssuaryException is one); its message names the address
{
    Console.Error.WriteLine($"EchoClient: {e.Message}");
    return 1;
}
