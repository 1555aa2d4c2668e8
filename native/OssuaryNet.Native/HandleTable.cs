namespace OssuaryNet.Native;

/// <summary>
/// Maps the opaque handles given to C callers to connections. A handle packs a slot index and that slot's generation,
/// so a freed (stale) or double-freed handle, or any made-up value, is rejected with OSSUARY_ERR_INVALID_HANDLE instead
/// of touching freed memory. Handles are never memory addresses.
/// </summary>
internal static class HandleTable
{
    private static readonly object Lock = new();
    private static NativeConnection?[] _slots = new NativeConnection?[64];
    private static uint[] _generations = new uint[64];

    public static nint Add(NativeConnection connection)
    {
        lock (Lock)
        {
            int index = Array.IndexOf(_slots, null);
            if (index < 0)
            {
                index = _slots.Length;
                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _generations, _generations.Length * 2);
            }
            uint generation = ++_generations[index];
            if (generation == 0)
            {
                generation = ++_generations[index];
            }
            _slots[index] = connection;
            return (nint)(((long)generation << 32) | (uint)(index + 1));
        }
    }

    public static NativeConnection Get(nint handle)
    {
        lock (Lock)
        {
            return _slots[Find(handle)]!;
        }
    }

    public static NativeConnection Remove(nint handle)
    {
        lock (Lock)
        {
            int index = Find(handle);
            NativeConnection connection = _slots[index]!;
            _slots[index] = null;
            return connection;
        }
    }

    private static int Find(nint handle)
    {
        long value = handle;
        int index = (int)(uint)value - 1;
        uint generation = (uint)(value >> 32);
        if (index < 0 || index >= _slots.Length || generation == 0 || _generations[index] != generation || _slots[index] is null)
        {
            throw new BoundaryException(NativeStatus.InvalidHandle, "Not a live connection handle (never created, or already freed).");
        }
        return index;
    }
}
