using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Bench;

/// <summary>The transports and the three kinds of connection compared: raw, OssuaryStream, SslStream (TLS 1.3).</summary>
public enum Transport
{
    Loopback,
    Memory,
}

public enum Channel
{
    Raw,
    Ossuary,
    /// <summary>OssuaryStream with the AES-256-GCM / SHA-256 suite (the default is ChaCha20-Poly1305 / BLAKE2b).</summary>
    OssuaryAesGcm,
    /// <summary>OssuaryStream with the post-quantum hybrid handshake (XXhfs / IKhfs, ML-KEM-768 beside X25519).</summary>
    OssuaryHybrid,
    Tls13,
}

internal static class Endpoints
{
    public static readonly OssuaryKeyPair ClientKey = OssuaryKeyPair.Generate();
    public static readonly OssuaryKeyPair ServerKey = OssuaryKeyPair.Generate();

    /// <summary>A self-signed ECDSA P-256 certificate, as a TLS 1.3 server of this size would use.</summary>
    public static readonly X509Certificate2 Certificate = CreateCertificate();

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        // Round-trip through PKCS#12 so that the private key is usable by SslStream on Linux.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    public static OssuaryClientOptions ClientOptions(bool pin, bool hybrid = false) => new()
    {
        StaticKeyPair = ClientKey,
        PeerVerifier = PeerVerifier.Pinned(ServerKey.PublicKey),
        ServerKey = pin ? ServerKey.PublicKey : null,
        PostQuantum = hybrid ? OssuaryPostQuantum.Required : OssuaryPostQuantum.Off,
    };

    /// <summary>Accepts the classical and the hybrid handshakes, as a server upgrading to post-quantum would.</summary>
    public static readonly OssuaryServerOptions ServerOptions = new()
    {
        StaticKeyPair = ServerKey,
        PeerVerifier = PeerVerifier.Pinned(ClientKey.PublicKey),
        PostQuantum = OssuaryPostQuantum.Preferred,
    };

    public static async Task<(Stream Client, Stream Server)> RawPair(Transport transport)
    {
        if (transport == Transport.Memory)
        {
            return DuplexPipeStream.CreatePair();
        }
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accepted = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await accepted;
        server.NoDelay = true;
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    public static async Task<(Stream Client, Stream Server)> Pair(Channel channel, Transport transport, bool pin = true)
    {
        var (client, server) = await RawPair(transport);
        switch (channel)
        {
            case Channel.Ossuary or Channel.OssuaryAesGcm or Channel.OssuaryHybrid:
                var secureClient = new OssuaryStream(client);
                var secureServer = new OssuaryStream(server);
                OssuaryClientOptions clientOptions = ClientOptions(pin, hybrid: channel == Channel.OssuaryHybrid);
                if (channel == Channel.OssuaryAesGcm)
                {
                    clientOptions.Suite = OssuarySuite.AesGcmSha256;
                }
                await Task.WhenAll(secureClient.AuthenticateAsClientAsync(clientOptions), secureServer.AuthenticateAsServerAsync(ServerOptions));
                return (secureClient, secureServer);
            case Channel.Tls13:
                var tlsClient = new SslStream(client);
                var tlsServer = new SslStream(server);
                await Task.WhenAll(
                    tlsClient.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = "localhost",
                        EnabledSslProtocols = SslProtocols.Tls13,
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    }),
                    tlsServer.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = Certificate,
                        EnabledSslProtocols = SslProtocols.Tls13,
                    }));
                return (tlsClient, tlsServer);
            default:
                return (client, server);
        }
    }

    /// <summary>
    /// Gives a sans-I/O connection paused for verification its verifier's verdict (the built-in verifiers answer at
    /// once), as a driver does outside the connection. No-op when nothing is pending.
    /// </summary>
    public static void VerifyPending(OssuaryConnection connection)
    {
        if (connection.PeerToVerify is { } peer)
        {
            ValueTask<PeerVerdict> verdict = connection.PeerVerifier.VerifyAsync(peer);
            connection.CompletePeerVerification(verdict.IsCompletedSuccessfully ? verdict.Result : verdict.AsTask().GetAwaiter().GetResult());
        }
    }
}
