using System.Security.Cryptography;
using OssuaryNet.Crypto;
using OssuaryNet.Noise;

namespace OssuaryNet.Identity;

/// <summary>
/// A static X25519 key pair: the long-term identity of one side. The private key lives in pinned memory and is
/// wiped by <see cref="Dispose"/>; it is never printed, logged or put in an exception message.
/// </summary>
/// <remarks>
/// A key pair used by clients with a pinned server key (IK) remembers the static-static DH result for the last few
/// servers, as WireGuard precomputes it per peer, so reconnecting costs one X25519 operation less. Those results are
/// as secret as the private key: they live in pinned memory and <see cref="Dispose"/> wipes them too.
/// </remarks>
public sealed class OssuaryKeyPair : IDisposable, IStaticKeyAgreement
{
    private readonly byte[] _privateKey = SecretMemory.Allocate(X25519.KeySize);
    private readonly StaticAgreementCache _agreements = new();
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
            Crypto.Primitives.RandomBytes(privateKey);
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

    /// <summary>
    /// Loads the private key file at <paramref name="path"/>, creating it with a new key pair first when no file is
    /// there: what a program that keeps its identity in a file does on every start.
    /// </summary>
    /// <remarks>
    /// The rules are those of <see cref="Load"/> and <see cref="Save"/>: a new file is created with mode 0600 (and its
    /// <c>path.pub</c> beside it), missing directories are created 0700, and an existing file that group or others can
    /// access is refused, never repaired or replaced. An existing file that is not a key is an error, never
    /// overwritten. Creation is atomic: the key is moved into place whole, so a concurrent caller (another thread or
    /// process) sees no file or a complete one, and when two create at once both get the one key that was stored.
    /// </remarks>
    /// <param name="path">The private key file.</param>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFilePermissions"/> or <see cref="OssuaryErrorCode.KeyFileInvalid"/>, as <see cref="Load"/> and <see cref="Save"/> report them.</exception>
    public static OssuaryKeyPair LoadOrCreate(string path) => KeyFile.LoadOrCreate(path, out _);

    /// <summary>
    /// <see cref="LoadOrCreate(string)"/>, telling whether this call created the file (to say so to the user, or to print
    /// the new public key for the other side).
    /// </summary>
    /// <param name="path">The private key file.</param>
    /// <param name="created">True when this call generated the key pair and wrote the file; false when it loaded one.</param>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFilePermissions"/> or <see cref="OssuaryErrorCode.KeyFileInvalid"/>, as <see cref="Load"/> and <see cref="Save"/> report them.</exception>
    public static OssuaryKeyPair LoadOrCreate(string path, out bool created) => KeyFile.LoadOrCreate(path, out created);

    /// <summary>The private key, for the handshake only.</summary>
    internal ReadOnlySpan<byte> PrivateKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _privateKey;
        }
    }

    /// <summary>How many static-static DH results this key pair has computed (the rest came from its cache); for tests.</summary>
    internal int StaticAgreementsComputed => _agreements.Computed;

    /// <summary>True when no cached DH result remains in memory (tests check that <see cref="Dispose"/> wipes them).</summary>
    internal bool StaticAgreementsWiped => _agreements.IsWiped;

    /// <inheritdoc/>
    void IStaticKeyAgreement.Agree(ReadOnlySpan<byte> remoteStaticPublicKey, Span<byte> sharedSecret)
    {
        if (!_agreements.TryGet(remoteStaticPublicKey, sharedSecret))
        {
            X25519.Agree(PrivateKey, remoteStaticPublicKey, sharedSecret); // a low-order key throws and is not cached
            _agreements.Add(remoteStaticPublicKey, sharedSecret);
        }
    }

    /// <summary>Copies the private key out, for the C interface only (its callers own raw keys, as with libsodium).</summary>
    internal void CopyPrivateKeyTo(Span<byte> destination) => PrivateKey.CopyTo(destination);

    /// <summary>Wipes the private key and the DH results derived from it.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_privateKey);
        _agreements.Dispose();
    }
}
