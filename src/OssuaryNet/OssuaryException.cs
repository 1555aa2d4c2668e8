namespace OssuaryNet;

/// <summary>
/// The one exception type OssuaryNet throws for protocol, trust and key-file failures. Messages name what went
/// wrong and, where relevant, public fingerprints and endpoints; they never contain key material or plaintext.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/>, as <see cref="System.Net.Security.SslStream"/>'s failures are: code written for a
/// stream that catches <see cref="IOException"/> handles a tampered, truncated or refused OssuaryNet connection too,
/// and <see cref="ErrorCode"/> tells which.
/// </remarks>
public sealed class OssuaryException : IOException
{
    /// <summary>Creates an exception with the given cause.</summary>
    public OssuaryException(OssuaryErrorCode errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Creates an exception with the given cause and an inner exception.</summary>
    public OssuaryException(OssuaryErrorCode errorCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Why the operation failed.</summary>
    public OssuaryErrorCode ErrorCode { get; }

    /// <summary>True when the failure is the peer's clear alert (which is never answered with one).</summary>
    internal bool IsPeerAlert { get; init; }
}
