namespace OssuaryNet.Datagram;

/// <summary>What <see cref="AddressTokens.Check"/> says of a token; each refusal is counted under its own reason.</summary>
internal enum TokenVerdict
{
    Valid,
    /// <summary>Not the length of a token, or an address too long to have one.</summary>
    Malformed,
    /// <summary>Minted under a secret that has been retired (or never existed).</summary>
    Expired,
    /// <summary>The MAC does not match: another address or session id, or made up.</summary>
    Forged,
}
