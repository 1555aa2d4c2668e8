using OssuaryNet.Noise;

namespace OssuaryNet.Datagram;

/// <summary>
/// The keys of one datagram-mode session: a send key with its packet counter and a receive key with its replay
/// window, from one handshake's <c>Split()</c>. Each Data packet's counter is its AEAD nonce and its 16 header bytes
/// are the associated data.
/// </summary>
/// <remarks>
/// Receive order (the lesson of CVE-2024-58265): counter limit, read-only window pre-check, AEAD open with the header
/// as associated data, and only then the window commit. A packet that fails anywhere changes nothing: not the window,
/// not the counters, not the caller's state (the caller moves timers, addresses and statistics only on success).
/// </remarks>
internal sealed class DatagramKeyPair : IDisposable
{
    /// <summary>Counters from this value on are never used (WireGuard's REJECT_AFTER_MESSAGES): 2^64 − 2^13 − 1 messages.</summary>
    public const ulong MessageLimit = ulong.MaxValue - (1UL << 13);

    private readonly NoiseTransport _keys;
    private readonly ReplayWindow _window = new(MessageLimit);

    public DatagramKeyPair(NoiseTransport keys, bool isInitiator, TimeSpan createdAt)
    {
        _keys = keys;
        IsInitiator = isInitiator;
        CreatedAt = createdAt;
    }

    public bool IsInitiator { get; }

    public TimeSpan CreatedAt { get; }

    /// <summary>The counter the next sealed packet carries (settable for tests that must reach the limit).</summary>
    public ulong NextSendCounter { get; internal set; }

    /// <summary>The highest counter received and authenticated so far.</summary>
    public ulong HighestReceived => _window.Highest;

    /// <summary>The size of a Data packet carrying <paramref name="innerLength"/> bytes of inner plaintext.</summary>
    public static int PacketSize(int innerLength) => DatagramPacket.DataHeaderSize + innerLength + DatagramPacket.TagSize;

    /// <summary>Seals <paramref name="inner"/> into a Data packet for the peer's <paramref name="receiverSession"/>; false once the counter is used up.</summary>
    public bool TrySeal(uint receiverSession, ReadOnlySpan<byte> inner, Span<byte> packet, out int length)
    {
        length = 0;
        if (NextSendCounter >= MessageLimit)
        {
            return false;
        }
        Span<byte> header = DatagramPacket.WriteDataHeader(packet, receiverSession, NextSendCounter);
        _keys.Send.Nonce = NextSendCounter;
        length = DatagramPacket.DataHeaderSize + _keys.Send.EncryptWithAd(header, inner, packet[DatagramPacket.DataHeaderSize..]);
        NextSendCounter++;
        return true;
    }

    /// <summary>
    /// Opens a parsed Data packet into <paramref name="inner"/> (at least the ciphertext's length minus 16 bytes), or
    /// says why it was dropped. Only an authentic, new packet changes anything.
    /// </summary>
    public bool TryOpen(in ParsedDatagram data, Span<byte> inner, out int length, out DatagramDropReason reason)
    {
        length = 0;
        switch (_window.Classify(data.Counter))
        {
            case ReplayVerdict.BeyondLimit:
                reason = DatagramDropReason.CounterLimit;
                return false;
            case ReplayVerdict.BehindWindow:
                reason = DatagramDropReason.BehindWindow;
                return false;
            case ReplayVerdict.Duplicate:
                reason = DatagramDropReason.Duplicate;
                return false;
        }
        _keys.Receive.Nonce = data.Counter;
        if (!_keys.Receive.TryDecryptWithAd(data.Header, data.Ciphertext, inner, out length))
        {
            reason = DatagramDropReason.AuthenticationFailed;
            return false;
        }
        if (!_window.TryCommit(data.Counter))
        {
            // Cannot happen between the pre-check and here on one thread; refuse rather than deliver twice.
            inner[..length].Clear();
            length = 0;
            reason = DatagramDropReason.Duplicate;
            return false;
        }
        reason = default;
        return true;
    }

    /// <summary>Wipes both keys.</summary>
    public void Dispose() => _keys.Dispose();
}
