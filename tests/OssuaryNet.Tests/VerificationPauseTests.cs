using System.Diagnostics;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>Peer verification is a pause of the connection, awaited by the stream outside every lock.</summary>
public sealed class VerificationPauseTests
{
    [Fact]
    public void APausedConnectionConsumesNothingSendsNothingAndResumesOnTheVerdict()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions(), "server.test:7000");
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        server.Receive(HandshakeTests.Drain(client), default, out _, out _);
        byte[] message2 = HandshakeTests.Drain(server);
        byte[] input = [.. message2, 0, 5, 1, 2, 3];
        Assert.Equal(OssuaryStatus.PeerVerificationRequired, client.Receive(input, default, out int consumed, out _));
        Assert.Equal(message2.Length, consumed);
        PeerIdentity peer = Assert.IsType<PeerIdentity>(client.PeerToVerify);
        Assert.Equal(TestKeys.Server.PublicKey, peer.PublicKey);
        Assert.Equal("server.test:7000", peer.Endpoint);
        Assert.Equal(OssuaryHandshakePattern.XX, peer.Pattern);
        Assert.Null(client.RemotePublicKey); // nothing is taken as verified before the verdict

        // Paused: more input is not consumed, nothing is sent, and data cannot be sent yet.
        Assert.Equal(OssuaryStatus.PeerVerificationRequired, client.Receive(input.AsSpan(consumed), default, out consumed, out _));
        Assert.Equal(0, consumed);
        Assert.False(client.HasPendingOutput);
        Assert.Equal(OssuaryStatus.HandshakeInProgress, client.Send("early"u8, new byte[100], out int taken, out int written));
        Assert.Equal(0, taken + written);

        client.CompletePeerVerification(PeerVerdict.Accept());
        Assert.Equal(OssuaryConnectionState.Established, client.State);
        Assert.Equal(TestKeys.Server.PublicKey, client.VerifiedPeer!.PublicKey);
        Assert.Throws<InvalidOperationException>(() => client.CompletePeerVerification(PeerVerdict.Accept()));
        Assert.Equal(OssuaryStatus.PeerVerificationRequired, server.Receive(HandshakeTests.Drain(client), default, out _, out _));
        server.CompletePeerVerification(PeerVerdict.Accept());
        Assert.Equal(OssuaryConnectionState.Established, server.State);
    }

    [Fact]
    public void ARejectingVerdictFailsTheConnectionAndSendsOnlyThePeerRejectedAlert()
    {
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(), ConnectionPair.ServerOptions());
        pair.Server.Receive(HandshakeTests.Drain(pair.Client), default, out _, out _);
        Assert.Equal(OssuaryStatus.PeerVerificationRequired, pair.Client.Receive(HandshakeTests.Drain(pair.Server), default, out _, out _));
        var error = Assert.Throws<OssuaryException>(() => pair.Client.CompletePeerVerification(PeerVerdict.KeyChanged("recorded another key")));
        Assert.Equal(OssuaryErrorCode.PeerKeyChanged, error.ErrorCode);
        Assert.Equal([0, 2, 0x15, (byte)OssuaryErrorCode.PeerRejected], HandshakeTests.Drain(pair.Client));
    }

    [Fact]
    public void TheHandshakeDeadlineIsPassedInAndCoversThePause()
    {
        var options = ConnectionPair.ClientOptions();
        options.HandshakeTimeout = TimeSpan.FromSeconds(5);
        var start = TimeSpan.FromHours(7); // any clock: only differences matter
        using var client = OssuaryConnection.CreateClient(options, "server.test:7000", start);
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        Assert.Equal(start + TimeSpan.FromSeconds(5), client.NextTimeout);
        server.Receive(HandshakeTests.Drain(client), default, out _, out _);
        Assert.Equal(OssuaryStatus.PeerVerificationRequired, client.Receive(HandshakeTests.Drain(server), default, out _, out _));
        Assert.False(client.HandleTimeout(start + TimeSpan.FromSeconds(4.999)));
        Assert.True(client.HandleTimeout(start + TimeSpan.FromSeconds(5)));
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, client.Failure!.ErrorCode);
        Assert.Null(client.NextTimeout);
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, Assert.Throws<OssuaryException>(() => client.CompletePeerVerification(PeerVerdict.Accept())).ErrorCode);
        Assert.False(client.HasPendingOutput); // a local timeout sends no alert

        using var pair = ConnectionPair.Established();
        Assert.Null(pair.Client.NextTimeout);
        Assert.False(pair.Client.HandleTimeout(TimeSpan.MaxValue));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AVerifierThatAnswersAfterADelayIsAwaitedOnBothSides(bool ik)
    {
        int calls = 0;
        PeerVerifier slow(OssuaryNet.Identity.OssuaryPublicKey expected) => PeerVerifier.FromAsyncCallback(async (peer, token) =>
        {
            await Task.Delay(200, token);
            Interlocked.Increment(ref calls);
            return peer.PublicKey == expected ? PeerVerdict.Accept() : PeerVerdict.Reject("unexpected key");
        });
        var clientOptions = Loopback.ClientOptions(slow(TestKeys.Server.PublicKey));
        if (ik)
        {
            clientOptions.ServerKey = TestKeys.Server.PublicKey;
        }
        var (client, server) = await Loopback.AuthenticatedPair(clientOptions, Loopback.ServerOptions(slow(TestKeys.Client.PublicKey)));
        await using (client)
        await using (server)
        {
            Assert.Equal(2, calls);
            Assert.Equal(ik ? OssuaryHandshakePattern.IK : OssuaryHandshakePattern.XX, client.Pattern);
            await client.WriteAsync("after the pause"u8.ToArray());
            byte[] buffer = new byte[100];
            Assert.Equal("after the pause"u8.ToArray(), buffer[..await server.ReadAsync(buffer)]);
        }
    }

    [Fact]
    public async Task AVerifierThatThrowsRejectsThePeerWithItsExceptionAsTheCause()
    {
        var broken = PeerVerifier.FromAsyncCallback(async (_, _) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("database down");
        });
        var (clientInner, serverInner) = await Loopback.RawPair();
        await using var client = new OssuaryStream(clientInner);
        await using var server = new OssuaryStream(serverInner);
        Task serverSide = server.AuthenticateAsServerAsync(Loopback.ServerOptions());
        var error = await Assert.ThrowsAsync<OssuaryException>(() => client.AuthenticateAsClientAsync(Loopback.ClientOptions(broken), "db:1")).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.PeerRejected, error.ErrorCode);
        Assert.Contains("database down", error.Message);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Equal(OssuaryErrorCode.PeerRejected, (await Assert.ThrowsAsync<OssuaryException>(() => serverSide).WaitAsync(Loopback.Guard)).ErrorCode);
    }

    [Fact]
    public async Task AVerifierThatNeverAnswersEndsAtTheHandshakeDeadlineEvenIfItIgnoresItsToken()
    {
        var silent = PeerVerifier.FromAsyncCallback((_, _) => new ValueTask<PeerVerdict>(new TaskCompletionSource<PeerVerdict>().Task));
        var (clientInner, serverInner) = await Loopback.RawPair();
        await using var client = new OssuaryStream(clientInner) { HandshakeTimeout = TimeSpan.FromMilliseconds(400) };
        await using var server = new OssuaryStream(serverInner) { HandshakeTimeout = TimeSpan.FromSeconds(20) };
        Task serverSide = server.AuthenticateAsServerAsync(Loopback.ServerOptions());
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<OssuaryException>(() => client.AuthenticateAsClientAsync(Loopback.ClientOptions(silent), "silent:1")).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, error.ErrorCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(15));
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, client.Connection!.Failure!.ErrorCode);
        await client.DisposeAsync();
        // The server waited for a third message that never came; the client's end of stream ends it.
        Assert.Equal(OssuaryErrorCode.Truncated, (await Assert.ThrowsAsync<OssuaryException>(() => serverSide).WaitAsync(Loopback.Guard)).ErrorCode);
    }

    [Fact]
    public async Task AuthenticateAsClientPinsTheKnownHostsKeyAndUsesIK()
    {
        string directory = Directory.CreateTempSubdirectory("ossuary-pause-").FullName;
        try
        {
            var knownHosts = new KnownHosts(Path.Combine(directory, "known_hosts"));
            for (int i = 0; i < 2; i++)
            {
                var (client, server) = await Loopback.AuthenticatedPair(Loopback.ClientOptions(knownHosts));
                await using (client)
                await using (server)
                {
                    Assert.Equal(i == 0 ? OssuaryHandshakePattern.XX : OssuaryHandshakePattern.IK, client.Pattern);
                    Assert.Equal(i == 0 ? OssuaryHandshakePattern.XX : OssuaryHandshakePattern.IK, server.Pattern);
                    Assert.Equal(TestKeys.Server.PublicKey, client.RemotePublicKey);
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void OptionsChangedAfterCreationDoNotReachALiveConnection()
    {
        var clientOptions = ConnectionPair.ClientOptions();
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.ApplicationProtocols.Add("app/1");
        clientOptions.ApplicationProtocols.Add("app/1");
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        serverOptions.ApplicationProtocols.Clear();
        serverOptions.ApplicationProtocols.Add("other/9");
        serverOptions.PeerVerifier = PeerVerifier.FromCallback(_ => PeerVerdict.Reject("changed too late"));
        clientOptions.MaxRecordPayload = 64;
        pair.Pump();
        Assert.Equal(OssuaryConnectionState.Established, pair.Server.State);
        Assert.Equal("app/1", pair.Server.ApplicationProtocol);
        Assert.Equal(16384, pair.Server.MaxSendPayload);

        // A connection created afterwards takes the options as they are now.
        using var later = new ConnectionPair(clientOptions, serverOptions);
        Assert.Throws<OssuaryException>(later.Pump);
    }
}
