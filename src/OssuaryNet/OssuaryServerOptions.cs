namespace OssuaryNet;

/// <summary>Settings of the responding side.</summary>
public sealed class OssuaryServerOptions : OssuaryOptions
{
    /// <summary>Suites a client may choose. Default: both.</summary>
    public IList<OssuarySuite> AllowedSuites { get; set; } = new List<OssuarySuite> { OssuarySuite.ChaChaPolyBlake2b, OssuarySuite.AesGcmSha256 };

    /// <summary>Handshake patterns a client may choose. Default: both XX and IK. Allowing XX or IK allows its hybrid variant (XXhfs, IKhfs) too; <see cref="OssuaryOptions.PostQuantum"/> decides which of the two variants is taken.</summary>
    public IList<OssuaryHandshakePattern> AllowedPatterns { get; set; } = new List<OssuaryHandshakePattern> { OssuaryHandshakePattern.XX, OssuaryHandshakePattern.IK };

    /// <summary>Whether early data in an IK first message is accepted (it is replayable; see <see cref="OssuaryClientOptions.EarlyData"/>).</summary>
    public bool AcceptEarlyData { get; set; }
}
