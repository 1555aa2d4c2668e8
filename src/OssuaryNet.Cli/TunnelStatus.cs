namespace OssuaryNet.Cli;

/// <summary>
/// The TCP tunnel's application protocols. Version 2 ("ossuary-tunnel/2") begins with one byte from `serve` to
/// `forward` saying whether the server reached its service, before any of the service's bytes: with version 1 a
/// server that could not reach it closed the channel without a word, which `forward` could only report as a
/// truncation. Both ends offer version 2 first and still speak version 1 (no status byte) with peers from before it.
/// </summary>
internal static class TunnelStatus
{
    public const string Protocol = "ossuary-tunnel/2";

    /// <summary>What both ends offer, most preferred first.</summary>
    public static readonly string[] Protocols = [Protocol, Commands.TunnelProtocol];

    private const byte Reached = 0, Unreachable = 1;

    /// <summary>Server side: tells a version-2 client whether its service was reached (nothing for version 1).</summary>
    public static async Task SendAsync(OssuaryStream client, bool reached, CancellationToken cancellationToken)
    {
        if (client.ApplicationProtocol == Protocol)
        {
            await client.WriteAsync(new[] { reached ? Reached : Unreachable }, cancellationToken);
        }
        if (!reached)
        {
            await client.ShutdownAsync(cancellationToken);
        }
    }

    /// <summary>Client side: waits for the server's status (version 2) and fails, naming <paramref name="server"/>, unless the service was reached.</summary>
    public static async Task ExpectServiceReachedAsync(OssuaryStream server, string serverName, CancellationToken cancellationToken)
    {
        if (server.ApplicationProtocol != Protocol)
        {
            return;
        }
        byte[] status = new byte[1];
        int read = await server.ReadAsync(status, cancellationToken);
        if (read == 1 && status[0] == Reached)
        {
            return;
        }
        throw new IOException(read == 1 && status[0] == Unreachable
            ? $"The server {serverName} could not reach its service (the address its --to names refused or did not answer); the connection was closed."
            : $"The server {serverName} closed the tunnel before saying whether it reached its service.");
    }
}
