using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Records;
using OssuaryNet.Trust;

namespace OssuaryNet.Phases;

/// <summary>
/// The transport phase: a record sender and a record receiver that share nothing but the pongs owed, the proof of
/// verification, and the handshake hash.
/// </summary>
internal sealed class EstablishedPhase : ConnectionPhase
{
    private readonly NoiseTransport _keys;

    private EstablishedPhase(NoiseTransport keys, RecordSender sender, RecordReceiver receiver, VerifiedPeer peer)
    {
        _keys = keys;
        Sender = sender;
        Receiver = receiver;
        Peer = peer;
    }

    public RecordSender Sender { get; }

    public RecordReceiver Receiver { get; }

    public VerifiedPeer Peer { get; }

    public ReadOnlySpan<byte> HandshakeHash => _keys.HandshakeHash;

    /// <summary>The keys, for tests that must reach states no peer can force quickly (nonce exhaustion).</summary>
    public NoiseTransport Keys => _keys;

    /// <summary>
    /// Enters the transport phase. Requires the proof that the verifier accepted the very key this handshake
    /// authenticated: there is no other way to obtain transport keys.
    /// </summary>
    public static EstablishedPhase Enter(HandshakeState noise, VerifiedPeer peer, OutputQueue output, FrameReader reader,
        ConnectionSettings settings, int peerMaxPayload, bool peerMayStillAlert)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!peer.PublicKey.Bytes.SequenceEqual(noise.RemoteStaticPublicKey))
        {
            throw new OssuaryException(OssuaryErrorCode.InternalError, "The verified key is not the handshake's remote key.");
        }
        NoiseTransport keys = noise.Split();
        var receiver = new RecordReceiver(keys.Receive, reader, settings.MaxRecordPayload, peerMayStillAlert);
        return new EstablishedPhase(keys, new RecordSender(keys.Send, output, receiver, settings, peerMaxPayload), receiver, peer);
    }

    /// <summary>Wipes both keys.</summary>
    public void Dispose() => _keys.Dispose();
}
