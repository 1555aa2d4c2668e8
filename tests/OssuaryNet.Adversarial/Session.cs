using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Adversarial;

/// <summary>The outcome of one simulated session.</summary>
public sealed record SessionResult(int Seed, Mutation? Mutation, bool Mutated, IReadOnlyList<string> Violations,
    OssuaryErrorCode? ClientError, OssuaryErrorCode? ServerError)
{
    public override string ToString() =>
        $"seed {Seed}: {(Mutated ? Mutation!.ToString() : "no mutation")} -> client {ClientError?.ToString() ?? "ok"}, server {ServerError?.ToString() ?? "ok"}" +
        (Violations.Count == 0 ? "" : $"\n  " + string.Join("\n  ", Violations));
}

/// <summary>
/// A live client/server pair on a simulated path: a handshake (XX or IK, either suite, random record limits,
/// padding and key-update limits), then a random script of data, pings, key updates and closes in both directions,
/// with one <see cref="Mutation"/> applied to one frame of one direction. Everything follows from the seed.
/// </summary>
/// <remarks>
/// Checked for every session, besides the per-call invariants of <see cref="Party"/>: each side's plaintext is a
/// prefix of what the other side sent (nothing forged, reordered or duplicated reaches the application); a side that
/// reports the peer's close consumed only genuine bytes; and a session whose mutation never took effect ends with
/// everything delivered and both directions closed cleanly.
/// </remarks>
public static class Session
{
    private static readonly OssuaryKeyPair ClientKey = OssuaryKeyPair.FromPrivateKey(Enumerable.Repeat((byte)0x11, 32).ToArray());
    private static readonly OssuaryKeyPair ServerKey = OssuaryKeyPair.FromPrivateKey(Enumerable.Repeat((byte)0x22, 32).ToArray());
    private static readonly Lazy<IReadOnlyList<byte[]>> ForeignFrames = new(RecordForeignFrames);

    private enum Step
    {
        ClientData,
        ServerData,
        ClientPing,
        ServerPing,
        ClientKeyUpdate,
        ServerKeyUpdate,
        ClientClose,
        ServerClose,
    }

    /// <summary>Runs the session of <paramref name="seed"/>, with a random mutation (or none).</summary>
    public static SessionResult Run(int seed, bool mutate = true)
    {
        var random = new Random(seed);
        Mutation? mutation = mutate ? Mutation.Random(random) : null;
        return Run(seed, random, mutation);
    }

    /// <summary>Runs the session of <paramref name="seed"/> with exactly <paramref name="mutation"/> (for replaying a saved counterexample).</summary>
    public static SessionResult Run(int seed, Mutation? mutation)
    {
        var random = new Random(seed);
        if (mutation is not null)
        {
            Mutation.Random(random); // keep the random stream where Run(seed) has it
        }
        return Run(seed, random, mutation);
    }

    private static SessionResult Run(int seed, Random random, Mutation? mutation)
    {
        bool ik = random.Next(2) == 0;
        var suite = random.Next(2) == 0 ? OssuarySuite.ChaChaPolyBlake2b : OssuarySuite.AesGcmSha256;
        string[] protocols = random.Next(3) == 0 ? ["demo/1"] : [];
        var clientOptions = new OssuaryClientOptions
        {
            StaticKeyPair = ClientKey,
            PeerVerifier = PeerVerifier.Pinned(ServerKey.PublicKey),
            ServerKey = ik ? ServerKey.PublicKey : null,
            Suite = suite,
            ApplicationProtocols = protocols,
            EphemeralKeySource = Ephemerals(seed, 1),
        };
        var serverOptions = new OssuaryServerOptions
        {
            StaticKeyPair = ServerKey,
            PeerVerifier = PeerVerifier.Pinned(ClientKey.PublicKey),
            ApplicationProtocols = protocols,
            EphemeralKeySource = Ephemerals(seed, 2),
        };
        foreach (OssuaryOptions options in new OssuaryOptions[] { clientOptions, serverOptions })
        {
            options.MaxRecordPayload = random.Next(3) == 0 ? random.Next(64, 65519) : 16384;
            options.PaddingBlockSize = random.Next(4) == 0 ? random.Next(1, 300) : 0;
            options.KeyUpdateAfterRecords = random.Next(4) == 0 ? random.Next(1, 5) : 1L << 20;
        }

        var violations = new List<string>();
        using OssuaryConnection clientConnection = OssuaryConnection.CreateClient(clientOptions, "server.test:1");
        using OssuaryConnection serverConnection = OssuaryConnection.CreateServer(serverOptions, "client.test:2");
        var client = new Party("client", clientConnection, new Random(random.Next()), violations);
        var server = new Party("server", serverConnection, new Random(random.Next()), violations);
        Wire toServer = null!, toClient = null!;
        toServer = new Wire(fromClient: true, mutation, ForeignFrames.Value, () => toClient.SentFrames);
        toClient = new Wire(fromClient: false, mutation, ForeignFrames.Value, () => toServer.SentFrames);

        List<(Step Step, int Size)> script = Script(random);
        int next = 0;
        for (int round = 0; round < 5000; round++)
        {
            client.Drain(toServer);
            server.Drain(toClient);
            bool moved = server.ReceiveFrom(toServer, toClient) | client.ReceiveFrom(toClient, toServer);
            bool acted = false;
            if (next < script.Count && (!moved || random.Next(3) == 0))
            {
                (Step step, int size) = script[next++];
                Perform(step, size, client, server, toServer, toClient, random);
                acted = true;
            }
            if (!moved && !acted && toServer.InFlight.Count == 0 && toClient.InFlight.Count == 0)
            {
                toServer.Flush();
                toClient.Flush();
                if (toServer.InFlight.Count == 0 && toClient.InFlight.Count == 0)
                {
                    break;
                }
            }
            if (round == 4999)
            {
                violations.Add("the session did not settle within 5000 rounds (a hang?)");
            }
        }
        // The transport ends in both directions, as TCP would once both sides are done.
        server.EndOfInput(toClient);
        client.EndOfInput(toServer);

        CheckPrefix(server, client, "client->server", violations);
        CheckPrefix(client, server, "server->client", violations);
        CheckGenuineClose(server, toServer, violations);
        CheckGenuineClose(client, toClient, violations);
        client.CheckOutputAfterFailure();
        server.CheckOutputAfterFailure();
        bool mutated = toServer.Mutated || toClient.Mutated;
        if (!mutated)
        {
            if (client.Failed || server.Failed)
            {
                violations.Add($"an unmutated session failed: client {client.Failure?.Message}, server {server.Failure?.Message}");
            }
            else if (!clientConnection.IsRemoteClosed || !serverConnection.IsRemoteClosed
                || server.Received.Count != client.SentPlaintext.Count || client.Received.Count != server.SentPlaintext.Count)
            {
                violations.Add("an unmutated session did not deliver everything and close cleanly");
            }
        }
        return new SessionResult(seed, mutation, mutated, violations, client.Failure?.ErrorCode, server.Failure?.ErrorCode);
    }

    private static List<(Step, int)> Script(Random random)
    {
        var script = new List<(Step, int)>();
        int steps = random.Next(1, 8);
        for (int i = 0; i < steps; i++)
        {
            var step = (Step)random.Next((int)Step.ClientClose);
            int size = step is Step.ClientData or Step.ServerData
                ? random.Next(4) switch { 0 => 0, 1 => random.Next(1, 100), 2 => random.Next(100, 5000), _ => random.Next(5000, 70000) }
                : random.Next(0, 65);
            script.Add((step, size));
        }
        script.Add(random.Next(2) == 0 ? (Step.ClientClose, 0) : (Step.ServerClose, 0));
        script.Add(script[^1].Item1 == Step.ClientClose ? (Step.ServerClose, 0) : (Step.ClientClose, 0));
        return script;
    }

    private static void Perform(Step step, int size, Party client, Party server, Wire toServer, Wire toClient, Random random)
    {
        bool byClient = step is Step.ClientData or Step.ClientPing or Step.ClientKeyUpdate or Step.ClientClose;
        Party actor = byClient ? client : server;
        Wire output = byClient ? toServer : toClient;
        if (!actor.Established || actor.Connection.IsLocalClosed)
        {
            return;
        }
        switch (step)
        {
            case Step.ClientData or Step.ServerData:
                byte[] data = new byte[size];
                random.NextBytes(data);
                actor.SendData(data, output);
                break;
            case Step.ClientPing or Step.ServerPing:
                byte[] ping = new byte[size];
                random.NextBytes(ping);
                actor.Act(() => actor.Connection.Ping(ping), "Ping", output);
                break;
            case Step.ClientKeyUpdate or Step.ServerKeyUpdate:
                actor.Act(actor.Connection.RequestKeyUpdate, "RequestKeyUpdate", output);
                break;
            default:
                actor.Act(actor.Connection.Close, "Close", output);
                break;
        }
    }

    private static void CheckPrefix(Party receiver, Party sender, string direction, List<string> violations)
    {
        List<byte> got = receiver.Received, sent = sender.SentPlaintext;
        if (got.Count > sent.Count || !got.SequenceEqual(sent.Take(got.Count)))
        {
            violations.Add($"{direction}: the application received {got.Count} bytes that are not a prefix of the {sent.Count} sent");
        }
    }

    private static void CheckGenuineClose(Party receiver, Wire input, List<string> violations)
    {
        if (!receiver.Connection.IsRemoteClosed)
        {
            return;
        }
        int consumed = (int)receiver.Consumed;
        if (consumed > input.Sent.Count || !input.Delivered.Take(consumed).SequenceEqual(input.Sent.Take(consumed)))
        {
            violations.Add($"{receiver.Name} reported the peer's close after consuming bytes the peer never sent");
        }
    }

    /// <summary>Deterministic ephemeral keys for one side of one session (distinct per seed, so sessions differ).</summary>
    private static Noise.EphemeralKeySource Ephemerals(int seed, int side)
    {
        var random = new Random(HashCode.Combine(seed, side, 0x5eed));
        return destination => random.NextBytes(destination);
    }

    /// <summary>Frames of one clean session with other ephemeral keys, both directions, for splicing.</summary>
    private static List<byte[]> RecordForeignFrames()
    {
        var frames = new List<byte[]>();
        foreach (bool ik in new[] { false, true })
        {
            var client = OssuaryConnection.CreateClient(new OssuaryClientOptions
            {
                StaticKeyPair = ClientKey,
                PeerVerifier = PeerVerifier.Pinned(ServerKey.PublicKey),
                ServerKey = ik ? ServerKey.PublicKey : null,
                EphemeralKeySource = Ephemerals(-1, ik ? 3 : 1),
            });
            var server = OssuaryConnection.CreateServer(new OssuaryServerOptions
            {
                StaticKeyPair = ServerKey,
                PeerVerifier = PeerVerifier.Pinned(ClientKey.PublicKey),
                EphemeralKeySource = Ephemerals(-1, ik ? 4 : 2),
            });
            var violations = new List<string>();
            var c = new Party("foreign client", client, new Random(1), violations);
            var s = new Party("foreign server", server, new Random(2), violations);
            var toServer = new Wire(true, null, [], () => []);
            var toClient = new Wire(false, null, [], () => []);
            for (int i = 0; i < 10; i++)
            {
                c.Drain(toServer);
                s.ReceiveFrom(toServer, toClient);
                c.ReceiveFrom(toClient, toServer);
            }
            c.SendData(new byte[300], toServer);
            s.SendData(new byte[200], toClient);
            c.Act(client.Close, "Close", toServer);
            s.Act(server.Close, "Close", toClient);
            frames.AddRange(toServer.SentFrames);
            frames.AddRange(toClient.SentFrames);
            client.Dispose();
            server.Dispose();
        }
        return frames;
    }
}
