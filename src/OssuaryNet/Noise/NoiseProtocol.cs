using System.Text;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// A concrete Noise protocol: pattern, DH (and for HFS patterns the KEM), cipher and hash, parsed from a name such as
/// "Noise_XX_25519_ChaChaPoly_BLAKE2b" or "Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b" and printed back to it unchanged.
/// </summary>
internal sealed class NoiseProtocol
{
    private NoiseProtocol(HandshakePattern pattern, NoiseCipher cipher, NoiseHash hash)
    {
        Pattern = pattern;
        Cipher = cipher;
        Hash = hash;
        Name = $"Noise_{pattern.Name}_{(pattern.HasKem ? "25519+MLKEM768" : "25519")}_{cipher.Name}_{hash.Name}";
        NameBytes = Encoding.ASCII.GetBytes(Name);
    }

    public HandshakePattern Pattern { get; }
    public NoiseCipher Cipher { get; }
    public NoiseHash Hash { get; }

    /// <summary>The full protocol name, which is hashed into the initial handshake state.</summary>
    public string Name { get; }

    /// <summary><see cref="Name"/> as ASCII bytes.</summary>
    public byte[] NameBytes { get; }

    /// <summary>Parses a protocol name; unsupported parts give <see cref="OssuaryException"/> with the matching code.</summary>
    public static NoiseProtocol Parse(string name)
    {
        string[] parts = name.Split('_');
        if (parts.Length != 5 || parts[0] != "Noise")
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, $"'{name}' is not a Noise protocol name.");
        }
        HandshakePattern pattern = HandshakePattern.Parse(parts[1]);
        // An HFS pattern names its KEM beside the DH ("25519+MLKEM768"); any other pattern names the DH alone.
        if (parts[2] != (pattern.HasKem ? "25519+MLKEM768" : "25519"))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedSuite, $"Unsupported DH function or KEM '{parts[2]}' for pattern {parts[1]}.");
        }
        NoiseCipher cipher = parts[3] switch
        {
            "ChaChaPoly" => ChaChaPolyCipher.Instance,
            "AESGCM" => AesGcmCipher.Instance,
            _ => throw new OssuaryException(OssuaryErrorCode.UnsupportedSuite, $"Unsupported cipher '{parts[3]}'."),
        };
        NoiseHash hash = parts[4] switch
        {
            "BLAKE2b" => Blake2bHash.Instance,
            "SHA256" => Sha256Hash.Instance,
            _ => throw new OssuaryException(OssuaryErrorCode.UnsupportedSuite, $"Unsupported hash '{parts[4]}'."),
        };
        return new NoiseProtocol(pattern, cipher, hash);
    }

    public override string ToString() => Name;
}
