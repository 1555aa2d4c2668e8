namespace OssuaryNet.Datagram;

/// <summary>What a <see cref="ReplayWindow"/> says of a counter; each refusal is its own drop reason.</summary>
internal enum ReplayVerdict
{
    Acceptable,
    /// <summary>The counter was accepted before.</summary>
    Duplicate,
    /// <summary>The counter is more than <see cref="ReplayWindow.Size"/> behind the highest accepted.</summary>
    BehindWindow,
    /// <summary>The counter is at or past the key pair's message limit.</summary>
    BeyondLimit,
}
