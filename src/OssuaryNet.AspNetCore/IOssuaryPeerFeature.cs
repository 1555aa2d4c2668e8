using OssuaryNet.Identity;

namespace OssuaryNet.AspNetCore;

/// <summary>
/// What the OssuaryNet handshake established for a connection accepted through
/// <see cref="OssuaryListenOptionsExtensions.UseOssuary(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions, OssuaryServerOptions)"/>:
/// set on the connection's features once the peer was verified, so every request on the connection reads it through
/// <c>HttpContext.Features.Get&lt;IOssuaryPeerFeature&gt;()</c> (or <see cref="OssuaryHttpContextExtensions.GetOssuaryPeer"/>).
/// A connection that failed its handshake or its verification never reaches the application.
/// </summary>
public interface IOssuaryPeerFeature
{
    /// <summary>The client's static public key, as the verifier accepted it.</summary>
    OssuaryPublicKey RemotePublicKey { get; }

    /// <summary>The fingerprint of <see cref="RemotePublicKey"/>, as the CLI shows it (<see cref="OssuaryPublicKey.Fingerprint"/>).</summary>
    string Fingerprint { get; }

    /// <summary>The handshake pattern the client chose (XX, IK, or their post-quantum hybrid forms).</summary>
    OssuaryHandshakePattern Pattern { get; }

    /// <summary>The cipher suite in use.</summary>
    OssuarySuite Suite { get; }

    /// <summary>The application protocol agreed in the handshake, or null when none was.</summary>
    string? ApplicationProtocol { get; }

    /// <summary>The Noise handshake hash: unique to this connection, for channel binding.</summary>
    ReadOnlyMemory<byte> HandshakeHash { get; }
}
