using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Identity;

/// <summary>
/// A static X25519 key pair: the long-term identity of one side. The private key lives in pinned memory and is
/// wiped by <see cref="Dispose"/>; it is never printed, logged or put in an exception message.
/// </summary>
public sealed class OssuaryKeyPair : IDisposable
{
    private readonly byte[] _privateKey = SecretMemory.Allocate(X25519.KeySize);
    private bool _disposed;

    private OssuaryKeyPair(ReadOnlySpan<byte> privateKey)
    {
        privateKey.CopyTo(_privateKey);
        Span<byte> publicKey = stackalloc byte[X25519.KeySize];
        X25519.DerivePublicKey(_privateKey, publicKey);
        PublicKey = new OssuaryPublicKey(publicKey);
    }

    /// <summary>The public half, safe to share.</summary>
    public OssuaryPublicKey PublicKey { get; }

    /// <summary>Generates a new key pair from libsodium's CSPRNG.</summary>
    public static OssuaryKeyPair Generate()
    {
        Span<byte> privateKey = stackalloc byte[X25519.KeySize];
        try
        {
            Interop.LibSodium.RandomBytes(privateKey);
            return new OssuaryKeyPair(privateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    /// <summary>Creates a key pair from a 32-byte private key (copied; the caller keeps ownership of its buffer).</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidKey"/> when the length is not 32.</exception>
    public static OssuaryKeyPair FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != X25519.KeySize)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidKey, $"A private key is {X25519.KeySize} bytes.");
        }
        return new OssuaryKeyPair(privateKey);
    }

    /// <summary>Loads a private key file written by <see cref="Save"/>, refusing one that group or others can access.</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFilePermissions"/> or <see cref="OssuaryErrorCode.KeyFileInvalid"/>.</exception>
    public static OssuaryKeyPair Load(string path) => KeyFile.LoadPrivateKey(path);

    /// <summary>Writes the private key to <paramref name="path"/> with mode 0600, and the public key to <c>path.pub</c>.</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFileInvalid"/> when the file exists and <paramref name="overwrite"/> is false, or on I/O failure.</exception>
    public void Save(string path, bool overwrite = false) => KeyFile.SavePrivateKey(this, path, overwrite);

    /// <summary>The private key, for the handshake only.</summary>
    internal ReadOnlySpan<byte> PrivateKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _privateKey;
        }
    }

    /// <summary>Copies the private key out, for the C interface only (its callers own raw keys, as with libsodium).</summary>
    internal void CopyPrivateKeyTo(Span<byte> destination) => PrivateKey.CopyTo(destination);

    /// <summary>Wipes the private key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_privateKey);
        _disposed = true;
    }
}
