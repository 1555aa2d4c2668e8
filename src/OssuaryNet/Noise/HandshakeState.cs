using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>Judges an authenticated handshake payload inside <see cref="HandshakeState.TryReadMessage"/>.</summary>
internal delegate bool PayloadCheck(ReadOnlySpan<byte> payload);

/// <summary>Produces an ephemeral private key; the default draws from libsodium's CSPRNG, tests inject fixed keys.</summary>
internal delegate void EphemeralKeySource(Span<byte> privateKey);

/// <summary>
/// A Noise HandshakeState (spec section 5.3): local and remote key pairs, the message patterns and the
/// SymmetricState. It is used once: <see cref="Split"/> consumes it and returns the transport, after which
/// every member throws, so the handshake cannot be reused and transport keys cannot exist before it ends.
/// </summary>
/// <remarks>
/// WriteMessage and ReadMessage process the tokens of the current message in order (spec section 5.3):
/// "e" sends/reads an ephemeral key and MixHash()es it (and MixKey()s it in psk handshakes); "s" sends/reads
/// the static key through EncryptAndHash/DecryptAndHash; "ee", "es", "se", "ss" MixKey() a DH result, with
/// "es" meaning DH(e, rs) for the initiator and DH(s, re) for the responder ("se" the mirror image); "psk"
/// MixKeyAndHash()es the next pre-shared key. The payload then goes through EncryptAndHash. Any failure
/// while reading leaves the handshake failed for good.
/// Noise HFS adds "e1", a fresh ML-KEM-768 public key sent through EncryptAndHash, and "ekem1", an encapsulation to
/// it whose ciphertext goes through EncryptAndHash before its shared secret is MixKey()ed. The KEM secret key is used
/// for one decapsulation and wiped as soon as the message that carried the ciphertext has been read.
/// </remarks>
internal sealed class HandshakeState : IDisposable
{
    private const int K = X25519.KeySize;
    // One pinned block for every private and public key, so that one wipe clears them all.
    // The SymmetricState's chaining key, hash and cipher key follow in the same block.
    private const int LocalStaticPrivate = 0, LocalStaticPublic = K, EphemeralPrivate = 2 * K, EphemeralPublic = 3 * K,
        RemoteStatic = 4 * K, RemoteEphemeral = 5 * K, SymmetricOffset = 6 * K;

    // Fails to compile (a constant that overflows) if the pooled block is too small for this layout.
    private const uint UnusedBlockBytes = (uint)SecretBlockPool.HandshakeBlockSize - (uint)(SymmetricOffset + SymmetricState.MemorySize);

    private readonly NoiseProtocol _protocol;
    private readonly SymmetricState _symmetric;
    private byte[]? _memory = SecretBlockPool.Handshake.Rent(); // back to the pool (wiped) when the handshake is spent
    private readonly IReadOnlyList<byte[]> _psks;
    private readonly EphemeralKeySource _ephemeralSource;
    private readonly IStaticKeyAgreement? _staticAgreement;
    private KemExchange? _kem; // HFS patterns only
    private bool _hasLocalStatic, _hasRemoteStatic;
    private int _pskIndex;
    private int _messageIndex;
    private bool _failed, _spent;

    /// <summary>Initialize(): mixes the prologue and the pre-message keys into a fresh SymmetricState.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="initiator">Role.</param>
    /// <param name="prologue">Data both sides must agree on; any difference fails the handshake.</param>
    /// <param name="localStaticPrivateKey">Empty, or 32 bytes when the pattern gives this side a static key.</param>
    /// <param name="remoteStaticPublicKey">Empty, or 32 bytes when a pre-message gives this side the peer's key.</param>
    /// <param name="psks">Pre-shared keys, in the order the psk tokens use them.</param>
    /// <param name="ephemeralSource">Overrides ephemeral key generation (test vectors only).</param>
    /// <param name="localStaticPublicKey">The public half of <paramref name="localStaticPrivateKey"/> when the caller already has it (saves an X25519 operation); empty to derive it.</param>
    /// <param name="staticAgreement">Computes the "ss" DH in place of this state (it must hold the same private key), so that its owner can reuse earlier results; null to compute it here.</param>
    /// <param name="kemSeeds">Fixes the KEM's randomness (test vectors only); null for the system CSPRNG.</param>
    public HandshakeState(
        NoiseProtocol protocol,
        bool initiator,
        ReadOnlySpan<byte> prologue,
        ReadOnlySpan<byte> localStaticPrivateKey,
        ReadOnlySpan<byte> remoteStaticPublicKey,
        IReadOnlyList<byte[]>? psks = null,
        EphemeralKeySource? ephemeralSource = null,
        ReadOnlySpan<byte> localStaticPublicKey = default,
        IStaticKeyAgreement? staticAgreement = null,
        IKemSeedSource? kemSeeds = null)
    {
        try
        {
            _protocol = protocol;
            if (protocol.Pattern.HasKem)
            {
                _kem = new KemExchange(kemSeeds);
            }
            IsInitiator = initiator;
            _psks = psks ?? [];
            _ephemeralSource = ephemeralSource ?? Primitives.RandomBytes;
            _staticAgreement = staticAgreement;
            HandshakePattern pattern = protocol.Pattern;

            bool psksValid = _psks.Count == pattern.PskCount;
            for (int i = 0; i < _psks.Count; i++)
            {
                psksValid &= _psks[i].Length == 32;
            }
            if (!psksValid)
            {
                throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"{protocol.Name} needs {pattern.PskCount} pre-shared keys of 32 bytes.");
            }
            bool needsLocalStatic = initiator ? pattern.InitiatorHasStatic : pattern.ResponderHasStatic;
            if (needsLocalStatic)
            {
                if (localStaticPrivateKey.Length != K)
                {
                    throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"{protocol.Name} needs a local static key.");
                }
                localStaticPrivateKey.CopyTo(KeySpan(LocalStaticPrivate));
                if (localStaticPublicKey.Length == K)
                {
                    localStaticPublicKey.CopyTo(KeySpan(LocalStaticPublic));
                }
                else
                {
                    X25519.DerivePublicKey(localStaticPrivateKey, KeySpan(LocalStaticPublic));
                }
                _hasLocalStatic = true;
            }
            NoiseToken[] remotePre = initiator ? pattern.ResponderPreMessage : pattern.InitiatorPreMessage;
            if (Array.IndexOf(remotePre, NoiseToken.S) >= 0)
            {
                if (remoteStaticPublicKey.Length != K)
                {
                    throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"{protocol.Name} needs the peer's static key in advance.");
                }
                remoteStaticPublicKey.CopyTo(KeySpan(RemoteStatic));
                _hasRemoteStatic = true;
            }

            _symmetric = new SymmetricState(protocol, _memory!, SymmetricOffset);
            _symmetric.MixHash(prologue);
            MixPreMessage(pattern.InitiatorPreMessage, initiatorSide: true);
            MixPreMessage(pattern.ResponderPreMessage, initiatorSide: false);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public bool IsInitiator { get; }

    /// <summary>True when every message of the pattern has been written or read.</summary>
    public bool IsComplete => _messageIndex == _protocol.Pattern.Messages.Length;

    /// <summary>True when the next message is this side's to write.</summary>
    public bool IsMyTurnToWrite => !IsComplete && (_messageIndex % 2 == 0) == IsInitiator;

    /// <summary>Index of the next handshake message.</summary>
    public int MessageIndex => _messageIndex;

    /// <summary>The peer's static public key, once known.</summary>
    public ReadOnlySpan<byte> RemoteStaticPublicKey => _hasRemoteStatic ? KeySpan(RemoteStatic) : default;

    /// <summary>This side's static public key, if it has one.</summary>
    public ReadOnlySpan<byte> LocalStaticPublicKey => _hasLocalStatic ? KeySpan(LocalStaticPublic) : default;

    /// <summary>The current handshake hash h.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _symmetric.HandshakeHash;

    /// <summary>The exact length of the next message written with a payload of <paramref name="payloadLength"/> bytes.</summary>
    public int GetMessageLength(int payloadLength)
    {
        ThrowIfUnusable();
        bool keyed = _symmetric.HasKey;
        int length = 0;
        foreach (NoiseToken token in _protocol.Pattern.Messages[_messageIndex])
        {
            switch (token)
            {
                case NoiseToken.E:
                    length += K;
                    keyed |= _protocol.Pattern.HasPsk;
                    break;
                case NoiseToken.S:
                    length += K + (keyed ? NoiseCipher.TagSize : 0);
                    break;
                case NoiseToken.E1:
                    length += MlKem768.PublicKeySize + (keyed ? NoiseCipher.TagSize : 0);
                    break;
                case NoiseToken.Ekem1:
                    length += MlKem768.CiphertextSize + (keyed ? NoiseCipher.TagSize : 0);
                    keyed = true;
                    break;
                default:
                    keyed = true;
                    break;
            }
        }
        return length + payloadLength + (keyed ? NoiseCipher.TagSize : 0);
    }

    /// <summary>WriteMessage(payload, message_buffer): returns the number of bytes written to <paramref name="message"/>.</summary>
    public int WriteMessage(ReadOnlySpan<byte> payload, Span<byte> message)
    {
        ThrowIfUnusable();
        if (!IsMyTurnToWrite)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "It is not this side's turn to write a handshake message.");
        }
        int needed = GetMessageLength(payload.Length);
        if (message.Length < needed || needed > ushort.MaxValue)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"A handshake message needs {needed} bytes (at most 65535).");
        }
        try
        {
            int offset = 0;
            foreach (NoiseToken token in _protocol.Pattern.Messages[_messageIndex])
            {
                switch (token)
                {
                    case NoiseToken.E:
                        _ephemeralSource(KeySpan(EphemeralPrivate));
                        X25519.DerivePublicKey(KeySpan(EphemeralPrivate), KeySpan(EphemeralPublic));
                        KeySpan(EphemeralPublic).CopyTo(message[offset..]);
                        MixEphemeral(KeySpan(EphemeralPublic));
                        offset += K;
                        break;
                    case NoiseToken.S:
                        offset += _symmetric.EncryptAndHash(KeySpan(LocalStaticPublic), message[offset..]);
                        break;
                    case NoiseToken.Psk:
                        _symmetric.MixKeyAndHash(_psks[_pskIndex++]);
                        break;
                    case NoiseToken.E1:
                        Kem.GenerateKeyPair();
                        offset += _symmetric.EncryptAndHash(Kem.LocalPublicKey, message[offset..]);
                        break;
                    case NoiseToken.Ekem1:
                        offset += EncapsulateAndMix(message[offset..]);
                        break;
                    default:
                        MixDh(token);
                        break;
                }
            }
            offset += _symmetric.EncryptAndHash(payload, message[offset..]);
            _messageIndex++;
            return offset;
        }
        catch
        {
            _failed = true;
            throw;
        }
    }

    /// <summary>
    /// ReadMessage(message, payload_buffer): returns the payload length. <paramref name="payload"/> must hold at least
    /// <c>message.Length</c> bytes less the message's keys and tags; <c>message.Length</c> always suffices. It must not overlap the message.
    /// </summary>
    public int ReadMessage(ReadOnlySpan<byte> message, Span<byte> payload)
    {
        ThrowIfUnusable();
        if (IsMyTurnToWrite || IsComplete)
        {
            throw new OssuaryException(OssuaryErrorCode.UnexpectedMessage, "A handshake message arrived when this side was to write.");
        }
        try
        {
            int offset = 0;
            foreach (NoiseToken token in _protocol.Pattern.Messages[_messageIndex])
            {
                switch (token)
                {
                    case NoiseToken.E:
                        RequireRemaining(message, offset, K);
                        message.Slice(offset, K).CopyTo(KeySpan(RemoteEphemeral));
                        MixEphemeral(KeySpan(RemoteEphemeral));
                        offset += K;
                        break;
                    case NoiseToken.S:
                        int length = K + _symmetric.Overhead;
                        RequireRemaining(message, offset, length);
                        _symmetric.DecryptAndHash(message.Slice(offset, length), KeySpan(RemoteStatic));
                        _hasRemoteStatic = true;
                        offset += length;
                        break;
                    case NoiseToken.Psk:
                        _symmetric.MixKeyAndHash(_psks[_pskIndex++]);
                        break;
                    case NoiseToken.E1:
                        int keyLength = MlKem768.PublicKeySize + _symmetric.Overhead;
                        RequireRemaining(message, offset, keyLength);
                        _symmetric.DecryptAndHash(message.Slice(offset, keyLength), Kem.RemotePublicKeyDestination);
                        Kem.HasRemoteKey = true;
                        offset += keyLength;
                        break;
                    case NoiseToken.Ekem1:
                        int ciphertextLength = MlKem768.CiphertextSize + _symmetric.Overhead;
                        RequireRemaining(message, offset, ciphertextLength);
                        DecapsulateAndMix(message.Slice(offset, ciphertextLength));
                        offset += ciphertextLength;
                        break;
                    default:
                        MixDh(token);
                        break;
                }
            }
            RequireRemaining(message, offset, _symmetric.Overhead);
            int written = _symmetric.DecryptAndHash(message[offset..], payload);
            if (Array.IndexOf(_protocol.Pattern.Messages[_messageIndex], NoiseToken.Ekem1) >= 0)
            {
                // The KEM secret key has done its one decapsulation, and the message that needed it was genuine (a
                // failed read keeps it, so that TryReadMessage can undo the read and take the genuine message later).
                Kem.WipeSecretKey();
            }
            _messageIndex++;
            return written;
        }
        catch
        {
            _failed = true;
            throw;
        }
    }

    /// <summary>
    /// ReadMessage that changes nothing when the message fails: every key, the chaining key, h and the counters are
    /// restored and the state stays usable. Datagram mode needs this because a forged handshake packet that reaches a
    /// waiting handshake (its session id is visible on the path) must not end it.
    /// </summary>
    /// <param name="message">The handshake message.</param>
    /// <param name="payload">Receives the payload (as <see cref="ReadMessage"/>).</param>
    /// <param name="written">The payload's length, 0 on failure.</param>
    /// <param name="error">Why it failed, or null.</param>
    /// <param name="acceptPayload">Judges the authenticated payload before the read is kept; refusing it undoes the read too.</param>
    public bool TryReadMessage(ReadOnlySpan<byte> message, Span<byte> payload, out int written, out OssuaryException? error, PayloadCheck? acceptPayload = null)
    {
        ThrowIfUnusable();
        byte[] memory = _memory!;
        Span<byte> saved = stackalloc byte[SecretBlockPool.HandshakeBlockSize];
        memory.AsSpan(0, SecretBlockPool.HandshakeBlockSize).CopyTo(saved);
        (bool, ulong) cipher = _symmetric.SaveCipherCounters();
        (bool hasRemoteStatic, bool hasRemoteKem, int messageIndex, int pskIndex) = (_hasRemoteStatic, _kem?.HasRemoteKey ?? false, _messageIndex, _pskIndex);
        try
        {
            written = ReadMessage(message, payload);
            if (acceptPayload is not null && !acceptPayload(payload[..written]))
            {
                payload[..written].Clear();
                throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, "A handshake payload was refused.");
            }
            error = null;
            return true;
        }
        catch (OssuaryException e)
        {
            saved.CopyTo(memory);
            _symmetric.RestoreCipherCounters(cipher);
            (_hasRemoteStatic, _messageIndex, _pskIndex, _failed) = (hasRemoteStatic, messageIndex, pskIndex, false);
            if (_kem is not null)
            {
                _kem.HasRemoteKey = hasRemoteKem;
            }
            written = 0;
            error = e;
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(saved);
        }
    }

    /// <summary>
    /// Split(): consumes the finished handshake and returns the transport. The handshake's secrets are wiped;
    /// the handshake hash and the remote static key are carried over.
    /// </summary>
    public NoiseTransport Split()
    {
        ThrowIfUnusable();
        if (!IsComplete)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The handshake is not complete.");
        }
        Span<byte> k1 = stackalloc byte[NoiseCipher.KeySize];
        Span<byte> k2 = stackalloc byte[NoiseCipher.KeySize];
        try
        {
            _symmetric.Split(k1, k2);
            return IsInitiator
                ? new NoiseTransport(_protocol.Cipher, sendKey: k1, receiveKey: k2, _symmetric.HandshakeHash)
                : new NoiseTransport(_protocol.Cipher, sendKey: k2, receiveKey: k1, _symmetric.HandshakeHash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k1);
            CryptographicOperations.ZeroMemory(k2);
            Dispose();
        }
    }

    /// <summary>Wipes every key and returns the memory to the pool; the state is spent.</summary>
    public void Dispose()
    {
        _spent = true;
        _kem?.Dispose();
        _kem = null;
        if (_memory is { } memory)
        {
            _symmetric?.Dispose(); // null when the constructor failed before creating it
            _memory = null;
            SecretBlockPool.Handshake.Return(memory); // wipes the whole block
        }
    }

    private KemExchange Kem => _kem ?? throw new InvalidOperationException("A KEM token in a pattern without a KEM.");

    /// <summary>"ekem1" written: encapsulate to the peer's e1 key, EncryptAndHash the ciphertext, then MixKey the shared secret.</summary>
    private int EncapsulateAndMix(Span<byte> message)
    {
        Span<byte> ciphertext = stackalloc byte[MlKem768.CiphertextSize];
        Span<byte> shared = stackalloc byte[MlKem768.SharedSecretSize];
        try
        {
            Kem.Encapsulate(ciphertext, shared);
            int written = _symmetric.EncryptAndHash(ciphertext, message);
            _symmetric.MixKey(shared);
            return written;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>"ekem1" read: DecryptAndHash the ciphertext, decapsulate it with this side's e1 key, then MixKey the shared secret.</summary>
    private void DecapsulateAndMix(ReadOnlySpan<byte> encryptedCiphertext)
    {
        Span<byte> ciphertext = stackalloc byte[MlKem768.CiphertextSize];
        Span<byte> shared = stackalloc byte[MlKem768.SharedSecretSize];
        try
        {
            _symmetric.DecryptAndHash(encryptedCiphertext, ciphertext);
            Kem.Decapsulate(ciphertext, shared);
            _symmetric.MixKey(shared);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    private Span<byte> KeySpan(int offset) => (_memory ?? throw new ObjectDisposedException(nameof(HandshakeState))).AsSpan(offset, K);

    private void MixPreMessage(NoiseToken[] tokens, bool initiatorSide)
    {
        foreach (NoiseToken token in tokens)
        {
            if (token == NoiseToken.S)
            {
                _symmetric.MixHash(initiatorSide == IsInitiator ? KeySpan(LocalStaticPublic) : KeySpan(RemoteStatic));
            }
        }
    }

    private void MixEphemeral(ReadOnlySpan<byte> publicKey)
    {
        _symmetric.MixHash(publicKey);
        if (_protocol.Pattern.HasPsk)
        {
            _symmetric.MixKey(publicKey);
        }
    }

    private void MixDh(NoiseToken token)
    {
        // "es" is DH(initiator's e, responder's s); "se" is DH(initiator's s, responder's e).
        (int local, int remote) = token switch
        {
            NoiseToken.EE => (EphemeralPrivate, RemoteEphemeral),
            NoiseToken.SS => (LocalStaticPrivate, RemoteStatic),
            NoiseToken.ES => IsInitiator ? (EphemeralPrivate, RemoteStatic) : (LocalStaticPrivate, RemoteEphemeral),
            NoiseToken.SE => IsInitiator ? (LocalStaticPrivate, RemoteEphemeral) : (EphemeralPrivate, RemoteStatic),
            _ => throw new InvalidOperationException($"{token} is not a DH token."),
        };
        Span<byte> shared = stackalloc byte[K];
        try
        {
            if (token == NoiseToken.SS && _staticAgreement is not null)
            {
                _staticAgreement.Agree(KeySpan(remote), shared);
            }
            else
            {
                X25519.Agree(KeySpan(local), KeySpan(remote), shared);
            }
            _symmetric.MixKey(shared);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    private static void RequireRemaining(ReadOnlySpan<byte> message, int offset, int length)
    {
        if (message.Length - offset < length)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, "A handshake message is too short.");
        }
    }

    private void ThrowIfUnusable()
    {
        if (_spent)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The handshake state has been used up.");
        }
        if (_failed)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The handshake state has failed.");
        }
    }
}
