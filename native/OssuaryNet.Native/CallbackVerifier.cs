using System.Text;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>
/// A peer verifier that asks a C function: int callback(key[32], fingerprint, endpoint or NULL, peer_is_server,
/// user_data), 1 accepts. The convenience form of OSSUARY_NEEDS_VERIFICATION: the library calls it on the thread of
/// ossuary_handshake_recv, outside the handle's lock.
/// </summary>
internal sealed unsafe class CallbackVerifier(nint callback, nint userData) : PeerVerifier
{
    public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        var function = (delegate* unmanaged<byte*, byte*, byte*, int, void*, int>)callback;
        byte[] fingerprint = Encoding.ASCII.GetBytes(peer.PublicKey.Fingerprint + "\0");
        byte[]? endpoint = peer.Endpoint is null ? null : Encoding.UTF8.GetBytes(peer.Endpoint + "\0");
        fixed (byte* key = peer.PublicKey.Bytes)
        fixed (byte* fingerprintText = fingerprint)
        fixed (byte* endpointText = endpoint)
        {
            int answer = function(key, fingerprintText, endpointText, peer.PeerIsServer ? 1 : 0, (void*)userData);
            return ValueTask.FromResult(answer == 1
                ? PeerVerdict.Accept()
                : PeerVerdict.Reject($"The verification callback rejected the peer with fingerprint {peer.PublicKey.Fingerprint}."));
        }
    }
}
