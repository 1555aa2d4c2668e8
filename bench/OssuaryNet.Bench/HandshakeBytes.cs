namespace OssuaryNet.Bench;

/// <summary>
/// Bytes on the wire per handshake (frames included, both directions), for each pattern: run once by
/// `dotnet run -c Release --project bench/OssuaryNet.Bench -- handshake-bytes`. A count, not a timing.
/// </summary>
internal static class HandshakeBytes
{
    public static void Run()
    {
        Console.WriteLine("| pattern | client -> server | server -> client | total |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach ((string name, bool pin, bool hybrid) in new[] { ("XX", false, false), ("IK", true, false), ("XXhfs", false, true), ("IKhfs", true, true) })
        {
            using var client = OssuaryConnection.CreateClient(Endpoints.ClientOptions(pin, hybrid));
            using var server = OssuaryConnection.CreateServer(Endpoints.ServerOptions);
            byte[] buffer = new byte[8192];
            long up = 0, down = 0;
            while (client.State == OssuaryConnectionState.Handshaking || server.State == OssuaryConnectionState.Handshaking || client.HasPendingOutput)
            {
                client.Send(default, buffer, out _, out int written);
                up += written;
                server.Receive(buffer.AsSpan(0, written), default, out _, out _);
                Endpoints.VerifyPending(server);
                server.Send(default, buffer, out _, out written);
                down += written;
                client.Receive(buffer.AsSpan(0, written), default, out _, out _);
                Endpoints.VerifyPending(client);
            }
            if (client.NoiseProtocolName?.Contains(name + "_", StringComparison.Ordinal) != true)
            {
                throw new InvalidOperationException($"Expected {name}, got {client.NoiseProtocolName}.");
            }
            Console.WriteLine($"| {client.NoiseProtocolName} | {up:N0} | {down:N0} | {up + down:N0} |");
        }
    }
}
