using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace OssuaryNet.Tests.Model;

/// <summary>Random command sequences for the model-based property.</summary>
public static class CommandSequences
{
    public static Arbitrary<Command[]> Commands()
    {
        Gen<Command> command = Gen.Frequency(
            (5, Gen.Choose(0, 40_000).SelectMany(size => Gen.Elements(true, false).Select(byClient => new Command(CommandKind.Send, byClient, size % 3 == 0 ? size % 50 : size, 0)))),
            (2, Gen.Choose(0, 70).SelectMany(size => Gen.Elements(true, false).Select(byClient => new Command(CommandKind.Ping, byClient, size, 0)))),
            (1, Gen.Elements(true, false).Select(byClient => new Command(CommandKind.KeyUpdate, byClient, 0, 0))),
            (1, Gen.Elements(true, false).Select(byClient => new Command(CommandKind.Close, byClient, 0, 0))),
            (6, Gen.Choose(1, 5000).SelectMany(chunk => Gen.Elements(true, false).Select(byClient => new Command(CommandKind.Deliver, byClient, 0, chunk % 7 == 0 ? 1 + chunk % 5 : chunk)))),
            (1, Gen.Elements(true, false).Select(byClient => new Command(CommandKind.CompleteInput, byClient, 0, 0))));
        return command.ArrayOf().Select(commands => commands.Take(40).ToArray()).ToArbitrary();
    }
}

/// <summary>
/// Model-based: random sequences of Send, Ping, KeyUpdate, Close, Deliver and CompleteInput on an established pair,
/// checked after every step against <see cref="SideModel"/> (delivered bytes, closes, pongs, key updates, states,
/// and which calls fail with which code). Fixed seeds, so that CI runs the same cases every time; every
/// counterexample ever found is kept in Corpus/model-counterexamples.txt and replayed.
/// </summary>
public sealed class ModelBasedTests
{
    [Property(MaxTest = 10_000, Replay = "(20261128,1)", Arbitrary = [typeof(CommandSequences)])]
    public void TheConnectionBehavesAsTheModelSays(Command[] commands) => Run(commands);

    [Fact]
    public void EveryCounterexampleEverFoundStillPasses()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Corpus", "model-counterexamples.txt"));
        int cases = 0;
        foreach (string line in lines.Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            Run(line.Split(';').Select(Command.Parse).ToArray());
            cases++;
        }
        Assert.True(cases > 0, "the corpus is empty");
    }

    private static void Run(Command[] commands)
    {
        using ConnectionPair pair = ConnectionPair.Established(ik: commands.Length % 2 == 0);
        var client = new SideModel();
        var server = new SideModel();
        var toServer = new List<byte>();
        var toClient = new List<byte>();
        var clientReceived = new List<byte>();
        var serverReceived = new List<byte>();
        var random = new Random(commands.Length);
        int step = 0;
        foreach (Command command in commands)
        {
            step++;
            (OssuaryConnection actor, SideModel model, SideModel peerModel, OssuaryConnection peer, List<byte> outbox, List<byte> inbox) = command.ByClient
                ? (pair.Client, client, server, pair.Server, toServer, toClient)
                : (pair.Server, server, client, pair.Client, toClient, toServer);
            string where = $"step {step} ({command}) of [{string.Join("; ", commands)}]";
            if (command.Kind == CommandKind.Deliver)
            {
                Deliver(peer, peerModel, model, outbox, command.Chunk, random, command.ByClient ? toClient : toServer,
                    command.ByClient ? serverReceived : clientReceived, where);
            }
            else
            {
                Act(actor, model, command, random, outbox, where);
            }
            Check(pair.Client, client, clientReceived, "client", where);
            Check(pair.Server, server, serverReceived, "server", where);
        }
    }

    private static void Act(OssuaryConnection actor, SideModel model, Command command, Random random, List<byte> outbox, string where)
    {
        object? expected = model.ExpectedOutcome(command.Kind, command.Size);
        byte[] data = new byte[command.Size];
        random.NextBytes(data);
        object? actual = null;
        try
        {
            switch (command.Kind)
            {
                case CommandKind.Send:
                    var writer = new System.Buffers.ArrayBufferWriter<byte>();
                    Assert.Equal(OssuaryStatus.Done, actor.Send(data, writer));
                    outbox.AddRange(writer.WrittenSpan);
                    break;
                case CommandKind.Ping:
                    actor.Ping(data);
                    break;
                case CommandKind.KeyUpdate:
                    actor.RequestKeyUpdate();
                    break;
                case CommandKind.Close:
                    actor.Close();
                    break;
                case CommandKind.CompleteInput:
                    actor.CompleteInput();
                    break;
            }
        }
        catch (OssuaryException e)
        {
            actual = e.ErrorCode;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            actual = e.GetType();
        }
        Assert.True(Equals(expected, actual), $"{where}: expected {expected?.ToString() ?? "success"}, got {actual?.ToString() ?? "success"}");
        if (expected is OssuaryErrorCode code)
        {
            model.Failure = code;
            return;
        }
        if (expected is not null)
        {
            return; // a caller's mistake changes nothing
        }
        switch (command.Kind)
        {
            case CommandKind.Send:
                model.InFlight.Add((WireEvent.Data, data));
                break;
            case CommandKind.Ping:
                model.InFlight.Add((WireEvent.Ping, data));
                break;
            case CommandKind.KeyUpdate:
                model.InFlight.Add((WireEvent.KeyUpdate, []));
                model.SendKeyUpdates++;
                break;
            case CommandKind.Close when !model.LocalClosed:
                model.InFlight.Add((WireEvent.Close, []));
                model.LocalClosed = true;
                break;
        }
        DrainInto(actor, model, outbox, where);
    }

    /// <summary>Delivers everything in flight from the sender to <paramref name="receiver"/>, in pieces of <paramref name="chunk"/> bytes.</summary>
    private static void Deliver(OssuaryConnection receiver, SideModel receiverModel, SideModel senderModel, List<byte> wire, int chunk, Random random,
        List<byte> replies, List<byte> received, string where)
    {
        if (receiverModel.Failure is not null)
        {
            wire.Clear(); // the application closed the failed connection: nothing more is read
            senderModel.InFlight.Clear();
            return;
        }
        byte[] destination = new byte[70_000];
        OssuaryStatus status = OssuaryStatus.NeedMoreInput;
        while (wire.Count > 0 || status == OssuaryStatus.DestinationTooSmall)
        {
            byte[] piece = [.. wire.Take(Math.Min(chunk, wire.Count))];
            status = receiver.Receive(piece, destination.AsSpan(0, random.Next(2) == 0 ? destination.Length : 1 + random.Next(600)), out int consumed, out int written);
            received.AddRange(destination.AsSpan(0, written).ToArray());
            wire.RemoveRange(0, consumed);
            DrainInto(receiver, receiverModel, replies, where);
            if (status == OssuaryStatus.Closed && consumed == 0)
            {
                break;
            }
        }
        receiverModel.Process(senderModel);
        wire.Clear(); // after the peer's close, nothing more is read
    }

    private static void DrainInto(OssuaryConnection connection, SideModel model, List<byte> outbox, string where)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(connection.Send(default, writer) == OssuaryStatus.Done, where);
        outbox.AddRange(writer.WrittenSpan);
    }

    private static void Check(OssuaryConnection connection, SideModel model, List<byte> received, string side, string where)
    {
        Assert.True(model.Received.SequenceEqual(received), $"{where}: {side} received {received.Count} bytes, the model says {model.Received.Count}");
        Assert.True(model.State == connection.State, $"{where}: {side} is {connection.State}, the model says {model.State}");
        if (model.Failure is not null)
        {
            Assert.Equal(model.Failure, connection.Failure?.ErrorCode);
            return;
        }
        Assert.True(model.LocalClosed == connection.IsLocalClosed && model.RemoteClosed == connection.IsRemoteClosed, $"{where}: {side} closes differ");
        Assert.True(model.PongsReceived == connection.PongsReceived, $"{where}: {side} pongs {connection.PongsReceived}, model {model.PongsReceived}");
        Assert.True(model.SendKeyUpdates == connection.SendKeyUpdates && model.ReceiveKeyUpdates == connection.ReceiveKeyUpdates, $"{where}: {side} key updates differ");
    }
}
