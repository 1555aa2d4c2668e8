using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OssuaryNet.AspNetCore;
using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Integration;

/// <summary>A real Kestrel server behind UseOssuary, called by a real HttpClient through OssuaryHttp.</summary>
public sealed class KestrelTests
{
    private sealed record Seen(string Fingerprint, string Protocol, string Pattern);

    private sealed class Service : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public int Requests;

        private Service(WebApplication app) => _app = app;

        public Uri BaseAddress { get; private set; } = null!;

        public static async Task<Service> StartAsync(HttpProtocols protocols, PeerVerifier clients, OssuaryPostQuantum postQuantum = OssuaryPostQuantum.Off,
            TimeSpan? handshakeTimeout = null, CollectedLogs? logs = null)
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            if (logs is not null)
            {
                builder.Logging.AddProvider(logs);
            }
            var serverOptions = new OssuaryServerOptions { StaticKeyPair = TestKeys.Server, PeerVerifier = clients, PostQuantum = postQuantum };
            if (handshakeTimeout is { } timeout)
            {
                serverOptions.HandshakeTimeout = timeout;
            }
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = protocols;
                listen.UseOssuary(serverOptions);
            }));
            WebApplication app = builder.Build();
            var service = new Service(app);
            app.MapGet("/whoami", (HttpContext context) =>
            {
                Interlocked.Increment(ref service.Requests);
                IOssuaryPeerFeature peer = context.GetOssuaryPeer()!;
                return Results.Json(new Seen(peer.Fingerprint, context.Request.Protocol, peer.Pattern.ToString()));
            });
            app.MapPost("/sha256", async (HttpContext context) =>
            {
                Interlocked.Increment(ref service.Requests);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                byte[] buffer = new byte[64 * 1024];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                }
                return Convert.ToHexString(hash.GetHashAndReset());
            });
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            service.BaseAddress = new Uri(address);
            return service;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private static HttpClient Client(OssuaryClientOptions options, Version version) => new(OssuaryHttp.CreateHandler(options))
    {
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static OssuaryClientOptions ClientOptions(OssuaryKeyPair? key = null, OssuaryPublicKey? serverKey = null) => new()
    {
        StaticKeyPair = key ?? TestKeys.Client,
        PeerVerifier = PeerVerifier.Pinned(TestKeys.Server.PublicKey),
        ServerKey = serverKey,
    };

    [Fact]
    public async Task Http11RequestsSeeTheVerifiedClientAndCarryBodies()
    {
        await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.Pinned(TestKeys.Client.PublicKey));
        using HttpClient client = Client(ClientOptions(), HttpVersion.Version11);

        using HttpResponseMessage response = await client.GetAsync(new Uri(service.BaseAddress, "/whoami"));
        Seen seen = (await response.Content.ReadFromJsonAsync<Seen>())!;
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal(TestKeys.Client.PublicKey.Fingerprint, seen.Fingerprint);
        Assert.Equal("HTTP/1.1", seen.Protocol);
        Assert.Equal("XX", seen.Pattern);

        byte[] body = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        using HttpResponseMessage hashed = await client.PostAsync(new Uri(service.BaseAddress, "/sha256"), new ByteArrayContent(body));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), await hashed.Content.ReadAsStringAsync());
        Assert.Equal(2, service.Requests);
    }

    [Fact]
    public async Task Http2RequestsRunConcurrentlyOverOneChannelWithPriorKnowledge()
    {
        await using Service service = await Service.StartAsync(HttpProtocols.Http2, PeerVerifier.Pinned(TestKeys.Client.PublicKey));
        // The server's key pinned: IK, one round trip.
        using HttpClient client = Client(ClientOptions(serverKey: TestKeys.Server.PublicKey), HttpVersion.Version20);

        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync(new Uri(service.BaseAddress, "/whoami"))));
        foreach (HttpResponseMessage response in responses)
        {
            using (response)
            {
                Assert.Equal(HttpVersion.Version20, response.Version);
                Seen seen = (await response.Content.ReadFromJsonAsync<Seen>())!;
                Assert.Equal(TestKeys.Client.PublicKey.Fingerprint, seen.Fingerprint);
                Assert.Equal("HTTP/2", seen.Protocol);
                Assert.Equal("IK", seen.Pattern);
            }
        }
        byte[] body = RandomNumberGenerator.GetBytes(1024 * 1024);
        using HttpResponseMessage hashed = await client.PostAsync(new Uri(service.BaseAddress, "/sha256"), new ByteArrayContent(body));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), await hashed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARejectedClientKeyNeverReachesTheApplication()
    {
        await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.Pinned(TestKeys.Client.PublicKey));
        using HttpClient client = Client(ClientOptions(key: TestKeys.Other), HttpVersion.Version11);

        HttpRequestException failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(service.BaseAddress, "/whoami")));
        OssuaryException cause = Assert.IsType<OssuaryException>(failure.InnerException);
        Assert.Equal(OssuaryErrorCode.PeerRejected, cause.ErrorCode);
        Assert.True(cause.IsPeerAlert);
        Assert.Equal(0, service.Requests);
    }

    [Fact]
    public async Task AClientRefusesAServerThatCannotProveItsPinnedKey()
    {
        await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.AcceptAny);
        var options = new OssuaryClientOptions { StaticKeyPair = TestKeys.Client, PeerVerifier = PeerVerifier.Pinned(TestKeys.Other.PublicKey) };
        using HttpClient client = Client(options, HttpVersion.Version11);

        HttpRequestException failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(service.BaseAddress, "/whoami")));
        Assert.Equal(OssuaryErrorCode.PeerRejected, Assert.IsType<OssuaryException>(failure.InnerException).ErrorCode);
        Assert.Equal(0, service.Requests);
    }

    [Fact]
    public async Task AClientThatNeverHandshakesIsClosedAtTheHandshakeTimeoutAndPlainHttpIsNeverServed()
    {
        await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.AcceptAny, handshakeTimeout: TimeSpan.FromSeconds(1));
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, service.BaseAddress.Port);
        byte[] buffer = new byte[256];
        // Closed by the server (0, or a reset), never answered; the guard only bounds a hang.
        int read = await ReadOrReset(silent, buffer).WaitAsync(Loopback.Guard);
        Assert.Equal(0, read);

        // A plain HTTP request is not an OssuaryNet handshake: it gets an alert at most, never an HTTP response.
        using var plain = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await plain.ConnectAsync(IPAddress.Loopback, service.BaseAddress.Port);
        await plain.SendAsync("GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var answer = new List<byte>();
        int got;
        while ((got = await ReadOrReset(plain, buffer).WaitAsync(Loopback.Guard)) > 0)
        {
            answer.AddRange(buffer.AsSpan(0, got).ToArray());
        }
        Assert.DoesNotContain("HTTP/", System.Text.Encoding.ASCII.GetString(answer.ToArray()));
        Assert.Equal(0, service.Requests);
    }

    [Fact]
    public async Task APlainHttpClientIsClosedAtItsFirstBytesAndTheEndpointSaysOnceThatItSpeaksOssuary()
    {
        var logs = new CollectedLogs();
        // The default handshake timeout (30 s): a plain client used to hang for all of it.
        await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.Pinned(TestKeys.Client.PublicKey), logs: logs);
        for (int i = 0; i < 2; i++)
        {
            using var curl = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await curl.ConnectAsync(IPAddress.Loopback, service.BaseAddress.Port);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await curl.SendAsync("GET /whoami HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5.0\r\n\r\n"u8.ToArray());
            byte[] buffer = new byte[256];
            while (await ReadOrReset(curl, buffer).WaitAsync(Loopback.Guard) > 0)
            {
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"a plain HTTP client was held for {clock.Elapsed.TotalSeconds:0.0} s");
        }
        using HttpClient client = Client(ClientOptions(), HttpVersion.Version11);
        Assert.Equal(TestKeys.Client.PublicKey.Fingerprint, (await client.GetFromJsonAsync<Seen>(new Uri(service.BaseAddress, "/whoami")))!.Fingerprint);

        string notice = Assert.Single(logs.Messages, m => m.StartsWith("Endpoint ", StringComparison.Ordinal) && m.Contains("speaks OssuaryNet", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{service.BaseAddress.Port}", notice);
        Assert.Equal(2, logs.Messages.Count(m => m.Contains("sent an HTTP request", StringComparison.Ordinal)));
        Assert.Equal(1, service.Requests); // the OssuaryNet client's, and no other
    }

    /// <summary>Every message logged at Information or above, for tests that read what an operator would see.</summary>
    private sealed class CollectedLogs : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages.ToArray();

        public ILogger CreateLogger(string categoryName) => new Collector(_messages);

        public void Dispose()
        {
        }

        private sealed class Collector(System.Collections.Concurrent.ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    messages.Enqueue(formatter(state, exception));
                }
            }
        }
    }

    private static async Task<int> ReadOrReset(System.Net.Sockets.Socket socket, byte[] buffer)
    {
        try
        {
            return await socket.ReceiveAsync(buffer);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            return 0;
        }
    }

    [Fact]
    public async Task KnownHostsRecordTheServerOnFirstContactAndMakeLaterConnectionsIK()
    {
        string directory = Directory.CreateTempSubdirectory("ossuary-kestrel-").FullName;
        try
        {
            await using Service service = await Service.StartAsync(HttpProtocols.Http1, PeerVerifier.Pinned(TestKeys.Client.PublicKey), OssuaryPostQuantum.Preferred);
            var knownHosts = new KnownHosts(Path.Combine(directory, "known_hosts"));
            var options = new OssuaryClientOptions { StaticKeyPair = TestKeys.Client, PeerVerifier = knownHosts, PostQuantum = OssuaryPostQuantum.Preferred };

            using (HttpClient first = Client(options, HttpVersion.Version11))
            {
                Seen seen = (await first.GetFromJsonAsync<Seen>(new Uri(service.BaseAddress, "/whoami")))!;
                Assert.Equal("XXhfs", seen.Pattern);
            }
            Assert.Equal(TestKeys.Server.PublicKey, knownHosts.Lookup($"127.0.0.1:{service.BaseAddress.Port}"));
            using (HttpClient second = Client(options, HttpVersion.Version11))
            {
                Seen seen = (await second.GetFromJsonAsync<Seen>(new Uri(service.BaseAddress, "/whoami")))!;
                Assert.Equal("IKhfs", seen.Pattern);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
