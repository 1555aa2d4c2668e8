using System.Security.Cryptography;

namespace OssuaryNet.Datagram;

/// <summary>
/// The endpoint's own buffers of one size (its largest datagram) for packets waiting to be sent and datagrams waiting
/// to be read. Unlike the shared array pool, which the runtime trims under memory pressure, it keeps what it has, so
/// that a steady flow allocates nothing whatever the rest of the process does. It holds at most
/// <see cref="Capacity"/> free buffers; beyond, returned ones go to the garbage collector.
/// </summary>
internal sealed class PacketBufferPool
{
    public const int Capacity = 256;

    private readonly Stack<byte[]> _free = new(Capacity);

    public PacketBufferPool(int bufferSize) => BufferSize = bufferSize;

    public int BufferSize { get; }

    public byte[] Rent() => _free.TryPop(out byte[]? buffer) ? buffer : new byte[BufferSize];

    /// <summary>Takes a buffer back; the first <paramref name="usedLength"/> bytes are wiped when they held plaintext.</summary>
    public void Return(byte[] buffer, int usedLength, bool wipe)
    {
        if (wipe)
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, usedLength));
        }
        if (_free.Count < Capacity)
        {
            _free.Push(buffer);
        }
    }
}
