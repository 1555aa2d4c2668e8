using OssuaryNet.Noise;

namespace OssuaryNet.Phases;

/// <summary>A Noise handshake in progress, before the peer's static key is known.</summary>
internal sealed class HandshakingPhase(HandshakeState noise) : ConnectionPhase
{
    public HandshakeState Noise { get; } = noise;
}
