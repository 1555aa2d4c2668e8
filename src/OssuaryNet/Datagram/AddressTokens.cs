using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Datagram;

/// <summary>
/// Stateless proof that an initiator can receive at the address it claims (the token of a CookieReply): epoch u8 ‖
/// BLAKE2b-128(key = retry secret of that epoch; epoch ‖ address ‖ initiator session id). The responder keeps nothing
/// per initiator, only two secrets.
/// </summary>
/// <remarks>
/// Invariants: the secret of the current epoch and that of the previous one are kept, in pinned memory; a token is
/// valid only under one of them, so it lives between <see cref="Rotation"/> and twice that. A retired secret is wiped.
/// Time is passed in; a <c>now</c> earlier than the last one seen is taken as the last one (a clock that goes back
/// never revives an old secret).
/// </remarks>
internal sealed class AddressTokens : IDisposable
{
    public const int TokenSize = 1 + MacSize;
    public const int MaxAddressSize = 64;
    private const int MacSize = 16;
    private const int SecretSize = 32;

    /// <summary>How often the retry secret is replaced.</summary>
    public static readonly TimeSpan Rotation = TimeSpan.FromSeconds(120);

    private readonly IRandomSource _random;
    private readonly byte[] _secrets = SecretMemory.Allocate(2 * SecretSize); // [current | previous]
    private byte _epoch;
    private bool _hasPrevious;
    private TimeSpan _rotatedAt, _latest;

    public AddressTokens(IRandomSource random, TimeSpan now)
    {
        _random = random;
        _random.Fill(Current);
        _rotatedAt = _latest = now;
    }

    private Span<byte> Current => _secrets.AsSpan(0, SecretSize);

    private Span<byte> Previous => _secrets.AsSpan(SecretSize, SecretSize);

    /// <summary>Writes a token for <paramref name="address"/> and <paramref name="initiatorSession"/> under the current secret.</summary>
    public void Mint(ReadOnlySpan<byte> address, uint initiatorSession, TimeSpan now, Span<byte> token)
    {
        CheckAddress(address);
        Advance(now);
        token[0] = _epoch;
        ComputeMac(Current, _epoch, address, initiatorSession, token.Slice(1, MacSize));
    }

    /// <summary>Whether <paramref name="token"/> was minted here, for this address and session id, in the current or previous epoch.</summary>
    public TokenVerdict Check(ReadOnlySpan<byte> token, ReadOnlySpan<byte> address, uint initiatorSession, TimeSpan now)
    {
        if (token.Length != TokenSize || address.Length > MaxAddressSize)
        {
            return TokenVerdict.Malformed;
        }
        Advance(now);
        byte epoch = token[0];
        ReadOnlySpan<byte> secret = epoch == _epoch ? Current
            : _hasPrevious && epoch == (byte)(_epoch - 1) ? Previous
            : default;
        if (secret.IsEmpty)
        {
            return TokenVerdict.Expired;
        }
        Span<byte> expected = stackalloc byte[MacSize];
        ComputeMac(secret, epoch, address, initiatorSession, expected);
        return CryptographicOperations.FixedTimeEquals(expected, token[1..]) ? TokenVerdict.Valid : TokenVerdict.Forged;
    }

    /// <summary>Wipes both secrets.</summary>
    public void Dispose() => CryptographicOperations.ZeroMemory(_secrets);

    /// <summary>
    /// Rotates once per whole period passed. After one period the old secret becomes the previous one; after two or
    /// more, no secret that minted a still-valid token remains, so the previous one is wiped too.
    /// </summary>
    private void Advance(TimeSpan now)
    {
        _latest = now > _latest ? now : _latest;
        long periods = (_latest - _rotatedAt).Ticks / Rotation.Ticks;
        if (periods <= 0)
        {
            return;
        }
        if (periods == 1)
        {
            Current.CopyTo(Previous);
            _hasPrevious = true;
        }
        else
        {
            CryptographicOperations.ZeroMemory(Previous);
            _hasPrevious = false;
        }
        _random.Fill(Current);
        _epoch = unchecked((byte)(_epoch + periods));
        _rotatedAt += TimeSpan.FromTicks(periods * Rotation.Ticks);
    }

    private static void ComputeMac(ReadOnlySpan<byte> secret, byte epoch, ReadOnlySpan<byte> address, uint session, Span<byte> mac)
    {
        Span<byte> message = stackalloc byte[1 + MaxAddressSize + 4];
        message[0] = epoch;
        address.CopyTo(message[1..]);
        BinaryPrimitives.WriteUInt32LittleEndian(message[(1 + address.Length)..], session);
        Primitives.Blake2bTag(secret, message[..(1 + address.Length + 4)], mac);
    }

    private static void CheckAddress(ReadOnlySpan<byte> address) =>
        ArgumentOutOfRangeException.ThrowIfGreaterThan(address.Length, MaxAddressSize, nameof(address));
}
