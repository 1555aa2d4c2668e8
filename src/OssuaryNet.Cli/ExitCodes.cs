using System.Net.Sockets;

namespace OssuaryNet.Cli;

/// <summary>The documented exit codes of the ossuary tool (README "Command line").</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;            // bad arguments (also System.CommandLine's parse errors)
    public const int Network = 2;          // could not connect, connection reset, address in use
    public const int Protocol = 3;         // handshake or record failure, truncation, timeout
    public const int PeerNotTrusted = 4;   // a verifier rejected the peer, or the peer rejected us
    public const int PeerKeyChanged = 5;   // known-hosts mismatch, or a post-quantum downgrade: possible man in the middle
    public const int KeyFile = 6;          // identity or trust file missing, unreadable or with unsafe permissions
    public const int Transfer = 7;         // a file transfer failed its integrity check or was refused
    public const int Internal = 10;        // a bug: please report it

    /// <summary>Maps a failure to its exit code and the one line to print.</summary>
    public static (int Code, string Message) Classify(Exception error) => error switch
    {
        OssuaryException { ErrorCode: OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PostQuantumDowngrade } e => (PeerKeyChanged, e.Message),
        OssuaryException { ErrorCode: OssuaryErrorCode.PeerRejected } e => (PeerNotTrusted, e.Message),
        OssuaryException { ErrorCode: OssuaryErrorCode.KeyFilePermissions or OssuaryErrorCode.KeyFileInvalid } e => (KeyFile, e.Message),
        OssuaryException { ErrorCode: OssuaryErrorCode.InvalidOperation } e => (Usage, e.Message),
        OssuaryException e => (Protocol, $"{e.Message} ({e.ErrorCode})"),
        TransferException e => (Transfer, e.Message),
        EndOfStreamException => (Transfer, "The peer closed the connection before the transfer was complete."),
        UsageException e => (Usage, e.Message),
        // Failures the tool or the library wrapped name their address ("Cannot connect to HOST:PORT: ..."); a bare
        // socket error at least says what it means.
        SocketException e => (Network, $"{char.ToUpperInvariant(Meaning(e)[0])}{Meaning(e)[1..]}."),
        IOException e => (Network, e.Message),
        UnauthorizedAccessException e => (KeyFile, e.Message),
        _ => (Internal, $"unexpected error: {error.Message} (this is a bug: please report it)"),
    };

    private static string Meaning(SocketException e) => OssuaryNet.Streams.SocketFailure.Meaning(e.SocketErrorCode, null, e.Message);
}

/// <summary>A command-line mistake the parser cannot catch (e.g. a malformed HOST:PORT).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A file transfer that did not complete correctly.</summary>
internal sealed class TransferException(string message, Exception? cause = null) : Exception(message, cause);
