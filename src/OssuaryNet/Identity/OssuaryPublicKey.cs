using System.Security.Cryptography;
using System.Text;
using OssuaryNet.Crypto;

namespace OssuaryNet.Identity;

/// <summary>
/// A peer's identity: an X25519 static public key. Its text form is the 32 bytes in standard base64 (44 characters,
/// as WireGuard writes keys); its <see cref="Fingerprint"/> is a shorter form for people to compare.
/// </summary>
public sealed class OssuaryPublicKey : IEquatable<OssuaryPublicKey>
{
    /// <summary>Size of a public key in bytes.</summary>
    public const int Size = 32;

    private static readonly byte[] FingerprintDomain = Encoding.ASCII.GetBytes("OssuaryNet fingerprint v1");
    private readonly KeyBytes _bytes; // inline: a key is one object, not an object and an array
    private string? _fingerprint;

    /// <summary>Wraps a copy of the 32 key bytes.</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidKey"/> when the length is not 32.</exception>
    public OssuaryPublicKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidKey, $"A public key is {Size} bytes, not {key.Length}.");
        }
        key.CopyTo(_bytes);
    }

    /// <summary>The key bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// The fingerprint: the first 20 bytes of BLAKE2b-512("OssuaryNet fingerprint v1" || key), in lowercase RFC 4648
    /// base32, as eight groups of four characters joined by '-', e.g. <c>mzxw-6ytb-oi3d-...</c>. 160 bits keep a
    /// second preimage out of reach while staying short enough to read aloud.
    /// </summary>
    public string Fingerprint => _fingerprint ??= ComputeFingerprint(Bytes);

    /// <summary>
    /// Parses the base64 text form: exactly the 44 characters <see cref="ToString"/> writes (surrounding white space
    /// aside). Base64 of 32 bytes leaves two unused bits in its last character before the '='; text in which they are
    /// set decodes to the same bytes but is refused, so that every key has one text form and an altered one is noticed.
    /// </summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidKey"/> when the text is not a key in that form; the message says why.</exception>
    public static OssuaryPublicKey Parse(string text) =>
        TryParse(text, out OssuaryPublicKey? key, out string? problem)
            ? key
            : throw new OssuaryException(OssuaryErrorCode.InvalidKey, $"Not a public key: {problem}.");

    /// <summary>Parses the base64 text form (as <see cref="Parse"/>); false when it is not one.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OssuaryPublicKey? key) =>
        TryParse(text, out key, out _);

    /// <summary>As <see cref="TryParse(string?, out OssuaryPublicKey?)"/>, with the reason the text is not a key (for messages).</summary>
    internal static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OssuaryPublicKey? key,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        key = null;
        Span<byte> bytes = stackalloc byte[Size + 3];
        ReadOnlySpan<char> trimmed = (text ?? "").AsSpan().Trim();
        if (!Convert.TryFromBase64Chars(trimmed, bytes, out int written) || written != Size)
        {
            problem = $"expected {TextLength} characters of base64 encoding {Size} bytes";
            return false;
        }
        // The decoder ignores the unused bits and inner white space: only the form ToString writes is a key's text.
        Span<char> canonicalText = stackalloc char[TextLength];
        if (!Convert.TryToBase64Chars(bytes[..Size], canonicalText, out int length) || !trimmed.SequenceEqual(canonicalText[..length]))
        {
            problem = $"this base64 is not the form of any key: {(trimmed.Length == TextLength ? $"its last character before '=' ('{trimmed[^2]}') sets bits that 32 bytes do not fill (a key's is one of {CanonicalLastCharacters})" : "it has white space inside")}, so it was altered or mistyped";
            return false;
        }
        key = new OssuaryPublicKey(bytes[..Size]);
        problem = null;
        return true;
    }

    /// <summary>The length of the text form: 32 bytes in base64, with one '=' of padding.</summary>
    private const int TextLength = 44;

    /// <summary>The base64 digits whose two low bits are zero: the only ones that can end the text of 32 bytes.</summary>
    private const string CanonicalLastCharacters = "AEIMQUYcgkosw048";

    /// <summary>Whether <paramref name="text"/> names this key, as its base64 form or its fingerprint.</summary>
    public bool Matches(string text)
    {
        string trimmed = text.Trim();
        return TryParse(trimmed, out OssuaryPublicKey? other) ? Equals(other) : string.Equals(trimmed, Fingerprint, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The base64 text form.</summary>
    public override string ToString() => Convert.ToBase64String(Bytes);

    /// <summary>Constant-time comparison of the key bytes.</summary>
    public bool Equals(OssuaryPublicKey? other) => other is not null && CryptographicOperations.FixedTimeEquals(Bytes, other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as OssuaryPublicKey);

    /// <summary>Whether two keys are equal (constant-time on the key bytes; null equals only null).</summary>
    public static bool operator ==(OssuaryPublicKey? left, OssuaryPublicKey? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Whether two keys differ.</summary>
    public static bool operator !=(OssuaryPublicKey? left, OssuaryPublicKey? right) => !(left == right);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(Bytes);

    private static string ComputeFingerprint(ReadOnlySpan<byte> key)
    {
        Span<byte> digest = stackalloc byte[Primitives.Blake2bMaxOutput];
        Primitives.Blake2b(FingerprintDomain, key, default, digest);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var text = new StringBuilder(39);
        // 20 bytes = 160 bits = 32 base32 characters, read 5 bits at a time from the most significant end.
        for (int i = 0; i < 32; i++)
        {
            int bit = i * 5;
            int value = ((digest[bit / 8] << 8) | digest[bit / 8 + 1]) >> (11 - bit % 8) & 0x1f;
            if (i > 0 && i % 4 == 0)
            {
                text.Append('-');
            }
            text.Append(alphabet[value]);
        }
        return text.ToString();
    }

    [System.Runtime.CompilerServices.InlineArray(Size)]
    private struct KeyBytes
    {
        private byte _first;
    }
}
