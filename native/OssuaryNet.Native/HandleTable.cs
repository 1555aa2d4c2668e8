namespace OssuaryNet.Native;

/// <summary>
/// Maps the opaque handles given to C callers to the objects they name (stream connections, datagram endpoints). A
/// handle packs a slot index and that slot's generation, so a freed (stale) or double-freed handle, or any made-up
/// value, is rejected with OSSUARY_ERR_INVALID_HANDLE instead of touching freed memory; so is a handle of one kind
/// passed where another is wanted. Handles are never memory addresses.
/// </summary>
internal static class HandleTable
{
    private static readonly object Lock = new();
    private static object?[] _slots = new object?[64];
    private static uint[] _generations = new uint[64];

    public static nint Add(object target)
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
            _slots[index] = target;
            return (nint)(((long)generation << 32) | (uint)(index + 1));
        }
    }

    public static T Get<T>(nint handle) where T : class
    {
        lock (Lock)
        {
            return (T)_slots[Find<T>(handle)]!;
        }
    }

    public static T Remove<T>(nint handle) where T : class
    {
        lock (Lock)
        {
            int index = Find<T>(handle);
            var target = (T)_slots[index]!;
            _slots[index] = null;
            return target;
        }
    }

    private static int Find<T>(nint handle)
    {
        long value = handle;
        int index = (int)(uint)value - 1;
        uint generation = (uint)(value >> 32);
        if (index < 0 || index >= _slots.Length || generation == 0 || _generations[index] != generation || _slots[index] is not T)
        {
            string kind = typeof(T) == typeof(NativeConnection) ? "connection" : "datagram endpoint";
            throw new BoundaryException(NativeStatus.InvalidHandle, $"Not a live {kind} handle (never created, or already freed).");
        }
        return index;
    }
}
