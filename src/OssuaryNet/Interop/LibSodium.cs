using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OssuaryNet.Interop;

/// <summary>
/// The whole of OssuaryNet's binding to libsodium, kept in one file so that it can be audited at once.
/// </summary>
/// <remarks>
/// Every call takes spans and passes pointers to pinned stack or heap memory: nothing is allocated per call
/// and nothing is marshalled by copy. The library is resolved as <c>libsodium.so.23</c> because the
/// unversioned <c>libsodium.so</c> exists only when the -dev package is installed. <c>sodium_init</c>
/// runs exactly once, from the static constructor, before the first call to any member of this class
/// (an explicit static constructor gives the class precise, not lazy, initialisation semantics).
/// </remarks>
internal static unsafe partial class LibSodium
{
    private const string Library = "libsodium.so.23";

    public const int X25519KeySize = 32;
    public const int ChaChaPolyKeySize = 32;
    public const int ChaChaPolyNonceSize = 12;
    public const int AeadTagSize = 16;
    public const int Blake2bMaxOutput = 64;
    public const int Sha256Output = 32;

    /// <summary>Sizes of the opaque incremental hash states, read from the library so a version change cannot overflow them.</summary>
    public static readonly int Blake2bStateSize;
    public static readonly int Sha256StateSize;

    static LibSodium()
    {
        // sodium_init returns 0 on first success, 1 if already initialised (e.g. by another component in the process), -1 on failure.
        if (sodium_init() < 0)
        {
            throw new OssuaryException(OssuaryErrorCode.InternalError, "libsodium failed to initialise.");
        }
        Blake2bStateSize = checked((int)crypto_generichash_blake2b_statebytes());
        Sha256StateSize = checked((int)crypto_hash_sha256_statebytes());
    }

    /// <summary>Forces initialisation; a cheap no-op after the first call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void EnsureInitialized() { }

    /// <summary>The libsodium version string, e.g. "1.0.18".</summary>
    public static string Version => Marshal.PtrToStringAnsi((nint)sodium_version_string()) ?? "unknown";

    public static void RandomBytes(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            randombytes_buf(p, (nuint)buffer.Length);
        }
    }

    /// <summary>X25519 of a private scalar with the base point.</summary>
    public static void X25519Base(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        CheckLength(privateKey, X25519KeySize);
        CheckLength(publicKey, X25519KeySize);
        fixed (byte* q = publicKey)
        fixed (byte* n = privateKey)
        {
            if (crypto_scalarmult_curve25519_base(q, n) != 0)
            {
                throw new OssuaryException(OssuaryErrorCode.InternalError, "X25519 base-point multiplication failed.");
            }
        }
    }

    /// <summary>X25519 of a private scalar with a peer's public key. False when the result is all zero (a low-order point).</summary>
    public static bool X25519(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        CheckLength(privateKey, X25519KeySize);
        CheckLength(publicKey, X25519KeySize);
        CheckLength(sharedSecret, X25519KeySize);
        fixed (byte* q = sharedSecret)
        fixed (byte* n = privateKey)
        fixed (byte* p = publicKey)
        {
            return crypto_scalarmult_curve25519(q, n, p) == 0;
        }
    }

    /// <summary>ChaCha20-Poly1305 (IETF) encryption; <paramref name="ciphertext"/> is the ciphertext followed by the 16-byte tag and may be the same memory as <paramref name="plaintext"/>.</summary>
    public static void ChaChaPolySeal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        CheckLength(key, ChaChaPolyKeySize);
        CheckLength(nonce, ChaChaPolyNonceSize);
        CheckLength(ciphertext, plaintext.Length + AeadTagSize);
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* ad = associatedData)
        fixed (byte* m = plaintext)
        fixed (byte* c = ciphertext)
        {
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                c, c + plaintext.Length, null, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, null, npub, k);
        }
    }

    /// <summary>
    /// ChaCha20-Poly1305 (IETF) decryption of ciphertext-then-tag. The tag is verified before anything is
    /// written, so on failure (false) <paramref name="plaintext"/> holds nothing derived from the ciphertext.
    /// </summary>
    public static bool ChaChaPolyOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        CheckLength(key, ChaChaPolyKeySize);
        CheckLength(nonce, ChaChaPolyNonceSize);
        if (ciphertext.Length < AeadTagSize)
        {
            return false;
        }
        int length = ciphertext.Length - AeadTagSize;
        CheckLength(plaintext, length);
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* ad = associatedData)
        fixed (byte* c = ciphertext)
        fixed (byte* m = plaintext)
        {
            return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                m, null, c, (ulong)length, c + length, ad, (ulong)associatedData.Length, npub, k) == 0;
        }
    }

    /// <summary>BLAKE2b-512 over the concatenation of up to three parts, with no allocation.</summary>
    public static void Blake2b(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        CheckLength(output, Blake2bMaxOutput);
        // The opaque state is declared 64-byte aligned in sodium.h; stack memory is not, so align by hand.
        byte* raw = stackalloc byte[Blake2bStateSize + 63];
        byte* state = (byte*)(((nuint)raw + 63) & ~(nuint)63);
        try
        {
            fixed (byte* pa = a)
            fixed (byte* pb = b)
            fixed (byte* pc = c)
            fixed (byte* o = output)
            {
                crypto_generichash_blake2b_init(state, null, 0, Blake2bMaxOutput);
                crypto_generichash_blake2b_update(state, pa, (ulong)a.Length);
                crypto_generichash_blake2b_update(state, pb, (ulong)b.Length);
                crypto_generichash_blake2b_update(state, pc, (ulong)c.Length);
                crypto_generichash_blake2b_final(state, o, Blake2bMaxOutput);
            }
        }
        finally
        {
            // The state holds key-derived material while hashing HMAC pads.
            new Span<byte>(raw, Blake2bStateSize + 63).Clear();
        }
    }

    /// <summary>SHA-256 over the concatenation of up to three parts, with no allocation.</summary>
    public static void Sha256(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        CheckLength(output, Sha256Output);
        byte* raw = stackalloc byte[Sha256StateSize + 63];
        byte* state = (byte*)(((nuint)raw + 63) & ~(nuint)63);
        try
        {
            fixed (byte* pa = a)
            fixed (byte* pb = b)
            fixed (byte* pc = c)
            fixed (byte* o = output)
            {
                crypto_hash_sha256_init(state);
                crypto_hash_sha256_update(state, pa, (ulong)a.Length);
                crypto_hash_sha256_update(state, pb, (ulong)b.Length);
                crypto_hash_sha256_update(state, pc, (ulong)c.Length);
                crypto_hash_sha256_final(state, o);
            }
        }
        finally
        {
            new Span<byte>(raw, Sha256StateSize + 63).Clear();
        }
    }

    private static void CheckLength(ReadOnlySpan<byte> span, int expected)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"Expected a buffer of {expected} bytes, got {span.Length}.");
        }
    }

    [LibraryImport(Library)] private static partial int sodium_init();
    [LibraryImport(Library)] private static partial byte* sodium_version_string();
    [LibraryImport(Library)] private static partial void randombytes_buf(byte* buffer, nuint size);
    [LibraryImport(Library)] private static partial int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);
    [LibraryImport(Library)] private static partial int crypto_scalarmult_curve25519_base(byte* q, byte* n);

    [LibraryImport(Library)]
    private static partial int crypto_aead_chacha20poly1305_ietf_encrypt_detached(
        byte* c, byte* mac, ulong* maclen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_aead_chacha20poly1305_ietf_decrypt_detached(
        byte* m, byte* nsec, byte* c, ulong clen, byte* mac, byte* ad, ulong adlen, byte* npub, byte* k);

    [LibraryImport(Library)] private static partial nuint crypto_generichash_blake2b_statebytes();
    [LibraryImport(Library)] private static partial int crypto_generichash_blake2b_init(byte* state, byte* key, nuint keylen, nuint outlen);
    [LibraryImport(Library)] private static partial int crypto_generichash_blake2b_update(byte* state, byte* input, ulong inlen);
    [LibraryImport(Library)] private static partial int crypto_generichash_blake2b_final(byte* state, byte* output, nuint outlen);

    [LibraryImport(Library)] private static partial nuint crypto_hash_sha256_statebytes();
    [LibraryImport(Library)] private static partial int crypto_hash_sha256_init(byte* state);
    [LibraryImport(Library)] private static partial int crypto_hash_sha256_update(byte* state, byte* input, ulong inlen);
    [LibraryImport(Library)] private static partial int crypto_hash_sha256_final(byte* state, byte* output);
}
