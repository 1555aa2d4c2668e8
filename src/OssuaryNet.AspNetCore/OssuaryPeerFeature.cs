using OssuaryNet.Identity;

namespace OssuaryNet.AspNetCore;

/// <summary>A snapshot of an authenticated stream's identity, taken once its handshake completed.</summary>
internal sealed class OssuaryPeerFeature(OssuaryStream stream) : IOssuaryPeerFeature
{
    public OssuaryPublicKey RemotePublicKey { get; } = stream.RemotePublicKey!;

    public string Fingerprint => RemotePublicKey.Fingerprint;

    public OssuaryHandshakePattern Pattern { get; } = stream.Pattern!.Value;

    public OssuarySuite Suite { get; } = stream.Suite!.Value;

    public string? ApplicationProtocol { get; } = stream.ApplicationProtocol;

    public ReadOnlyMemory<byte> HandshakeHash { get; } = stream.HandshakeHash;
}
