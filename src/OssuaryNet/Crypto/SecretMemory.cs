using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>Allocation of arrays that hold secrets.</summary>
internal static class SecretMemory
{
    /// <summary>
    /// Allocates a zeroed array on the pinned object heap, so the garbage collector never moves it and leaves
    /// no stale copy of a key behind; callers wipe it with <see cref="CryptographicOperations.ZeroMemory"/>.
    /// </summary>
    public static byte[] Allocate(int length) => GC.AllocateArray<byte>(length, pinned: true);
}
