using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// `ossuary demo`: in one process, a server and a client on loopback show first contact (XX, trust on first use),
/// both fingerprints, a transfer with its throughput, a second connection with the key pinned (IK), and an impostor
/// refused. Everything lives in a temporary directory, so it needs no set-up and leaves nothing behind.
/// </summary>
internal static class Demo
{
    private const string Protocol = "ossuary-demo/1";

    public static Command Command()
    {
        var megabytes = new Option<int>("--megabytes") { Description = "How much data the demo transfer sends.", DefaultValueFactory = _ => 64 };
        var command = new Command("demo", "A tour in one process: first contact, fingerprints, a transfer with its throughput, a pinned reconnection and an impostor refused.\n\nExample:\n  ossuary demo") { megabytes };
        command.SetAction((result, cancellationToken) => RunAsync(Math.Max(1, result.GetValue(megabytes)), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int megabytes, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("ossuary-demo-").FullName;
        try
        {
            using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate();
            using OssuaryKeyPair clientKey = OssuaryKeyPair.Generate();
            var knownHosts = new KnownHosts(Path.Combine(directory, "known_hosts"));
            var clientOptions = new OssuaryClientOptions
            {
                StaticKeyPair = clientKey, PeerVerifier = knownHosts, ApplicationProtocols = [Protocol], PostQuantum = OssuaryPostQuantum.Preferred,
            };
            Console.WriteLine($"server identity  {serverKey.PublicKey.Fingerprint}");
            Console.WriteLine($"client identity  {clientKey.PublicKey.Fingerprint}");

            int port;
            await using (OssuaryListener listener = StartServer(serverKey, clientKey.PublicKey, new IPEndPoint(IPAddress.Loopback, 0)))
            {
                port = listener.LocalEndpoint.Port;
                string endpoint = $"127.0.0.1:{port}";
                Console.WriteLine($"server listening on {endpoint}");

                Console.WriteLine();
                Console.WriteLine("1. first contact");
                var clock = Stopwatch.StartNew();
                await using (OssuaryStream stream = await OssuaryClient.ConnectAsync("127.0.0.1", port, clientOptions, cancellationToken: cancellationToken))
                {
                    Console.WriteLine($"   handshake {stream.NoiseProtocolName} in {clock.Elapsed.TotalMilliseconds:0.0} ms");
                    Console.WriteLine($"   the client sees server {stream.RemotePublicKey!.Fingerprint} for the first time and records it in known_hosts");
                    Console.WriteLine("   post-quantum hybrid: ML-KEM-768 beside X25519, so recorded traffic stays secret from a future quantum computer");
                    Expect(stream.Pattern == OssuaryHandshakePattern.XXhfs, "first contact should use XXhfs");
                    Expect(knownHosts.HasSpokenPostQuantum(endpoint, null), "known_hosts should record that the server speaks the hybrid handshake");
                    Expect(knownHosts.Lookup(endpoint) == serverKey.PublicKey, "the server key should be recorded");
                    await TransferAsync(stream, megabytes, cancellationToken);
                }

                Console.WriteLine();
                Console.WriteLine("2. second connection");
                clock.Restart();
                await using (OssuaryStream stream = await OssuaryClient.ConnectAsync("127.0.0.1", port, clientOptions, cancellationToken: cancellationToken))
                {
                    Console.WriteLine($"   handshake {stream.NoiseProtocolName} in {clock.Elapsed.TotalMilliseconds:0.0} ms: the recorded key is pinned, one round trip");
                    Expect(stream.Pattern == OssuaryHandshakePattern.IKhfs, "a known server should be pinned (IKhfs)");
                    await TransferAsync(stream, 1, cancellationToken);
                }
            }

            Console.WriteLine();
            Console.WriteLine("3. an impostor with another key takes over the same address");
            using OssuaryKeyPair impostorKey = OssuaryKeyPair.Generate();
            await using (OssuaryListener impostor = StartServer(impostorKey, clientKey.PublicKey, new IPEndPoint(IPAddress.Loopback, port)))
            {
                try
                {
                    await using OssuaryStream stream = await OssuaryClient.ConnectAsync("127.0.0.1", port, clientOptions, cancellationToken: cancellationToken);
                    Expect(false, "the impostor should have been refused");
                }
                catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.PeerKeyChanged)
                {
                    // The pinned (IK) attempt fails because the impostor lacks the recorded key; the retry over XX
                    // learns the impostor's key, and known_hosts refuses it.
                    Console.WriteLine($"   refused ({e.ErrorCode}): {e.Message.Split(". ")[0]}.");
                }
            }
            Console.WriteLine();
            Console.WriteLine("demo complete");
            return ExitCodes.Success;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static OssuaryListener StartServer(OssuaryKeyPair key, OssuaryPublicKey client, IPEndPoint endpoint)
    {
        var listener = new OssuaryListener(endpoint, new OssuaryServerOptions
        {
            StaticKeyPair = key,
            PeerVerifier = PeerVerifier.Pinned(client),
            ApplicationProtocols = [Protocol],
            PostQuantum = OssuaryPostQuantum.Preferred,
        });
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                OssuaryStream stream;
                try
                {
                    stream = await listener.AcceptAsync();
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    await using (stream)
                    {
                        // Count and hash everything until the client's close, then report both back.
                        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        byte[] buffer = new byte[64 * 1024];
                        long total = 0;
                        int read;
                        while ((read = await stream.ReadAsync(buffer)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            total += read;
                        }
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{total} {Convert.ToHexStringLower(hash.GetHashAndReset())}"));
                        await stream.ShutdownAsync();
                    }
                });
            }
        });
        return listener;
    }

    private static async Task TransferAsync(OssuaryStream stream, int megabytes, CancellationToken cancellationToken)
    {
        byte[] chunk = RandomNumberGenerator.GetBytes(1 << 20);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < megabytes; i++)
        {
            hash.AppendData(chunk);
            await stream.WriteAsync(chunk, cancellationToken);
        }
        await stream.ShutdownAsync(cancellationToken);
        string reply = Encoding.ASCII.GetString(await ReadAllAsync(stream, cancellationToken));
        double seconds = clock.Elapsed.TotalSeconds;
        string expected = $"{(long)megabytes << 20} {Convert.ToHexStringLower(hash.GetHashAndReset())}";
        Expect(reply == expected, $"the server should confirm what was sent (got '{reply}')");
        Console.WriteLine($"   sent {megabytes} MiB, SHA-256 confirmed by the server, {megabytes / seconds:0.0} MiB/s ({seconds * 1000:0} ms, loopback, one connection)");
        Console.WriteLine($"   records: {stream.Connection!.RecordsOnCurrentSendKey:N0} on the current key, {stream.Connection.SendKeyUpdates} key updates");
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
    {
        var all = new MemoryStream();
        await stream.CopyToAsync(all, cancellationToken);
        return all.ToArray();
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"demo check failed: {what}");
        }
    }
}
