using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet.Phases;

/// <summary>
/// The handshake has authenticated the peer's static key; the connection is paused until the caller gives the
/// verifier's verdict. It consumes no input and sends nothing meanwhile. What the peer sent with its key (early data,
/// extensions) is held here and takes effect only once the key is accepted.
/// </summary>
internal sealed class AwaitingVerdictPhase(HandshakeState noise, PeerIdentity peer, HandshakeExtensions peerExtensions) : ConnectionPhase
{
    public HandshakeState Noise { get; } = noise;

    /// <summary>The key awaiting judgement; the proof the verdict creates is for this identity only.</summary>
    public PeerIdentity Peer { get; } = peer;

    public HandshakeExtensions PeerExtensions { get; } = peerExtensions;
}
