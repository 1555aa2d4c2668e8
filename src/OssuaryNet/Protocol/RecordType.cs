namespace OssuaryNet.Protocol;

/// <summary>The encrypted inner type of a transport record: the last non-zero byte of its plaintext.</summary>
internal enum RecordType : byte
{
    /// <summary>Application data.</summary>
    Data = 1,
    /// <summary>The sender will send nothing more (authenticated half-close). Empty content.</summary>
    Close = 2,
    /// <summary>The sender rekeys its sending direction after this record (Noise REKEY). Empty content.</summary>
    KeyUpdate = 3,
    /// <summary>Asks the peer for a <see cref="Pong"/> carrying the same content (at most 64 bytes).</summary>
    Ping = 4,
    /// <summary>The answer to a <see cref="Ping"/>.</summary>
    Pong = 5,
}
