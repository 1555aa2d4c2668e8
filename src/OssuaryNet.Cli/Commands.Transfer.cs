using System.CommandLine;
using System.Net;
using OssuaryNet.Identity;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>`send` and `receive`: one-off file transfer, verified end to end.</summary>
internal static partial class Commands
{
    public static Command Send()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The file to send." };
        var target = new Argument<string>("HOST:PORT") { Description = "The receiver (running `ossuary receive`)." };
        var command = new Command("send", "Send one file to `ossuary receive`, verified end to end (SHA-256), with a progress bar on a terminal.\n\nExample:\n  ossuary send backup.tar nas.example:7001")
        {
            file, target, Peer, Tofu, ConnectTimeoutSeconds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            FileInfo source = result.GetValue(file)!;
            string shown = PrintableText.Escape(source.FullName);
            if (Directory.Exists(source.FullName))
            {
                throw new UsageException($"'{shown}' is a directory: send takes one file (to send a directory, pack it: tar c DIR | ossuary connect HOST:PORT).");
            }
            if (!source.Exists)
            {
                throw new UsageException($"'{shown}' does not exist.");
            }
            (string host, int port) = Endpoints.Parse(result.GetValue(target)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), FileTransfer.Protocol, result.GetValue(PostQuantum));
            await using OssuaryStream stream = await ConnectToServerAsync(host, port, options, result, cancellationToken);
            Describe(stream, output);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long sent = 0;
            try
            {
                await TransferProgress.RunAsync($"sending {source.Name}", source.Length, async progress =>
                {
                    await FileTransfer.SendAsync(stream, source.FullName, $"{host}:{port}", done => progress(sent = done), cancellationToken);
                    return 0;
                });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Output.Error($"interrupted at {TransferAmount.Of(sent, source.Length)}: {PrintableText.Escape(source.Name)} was not delivered.");
                throw;
            }
            output.Note($"sent {source.Name}: {source.Length:N0} bytes in {clock.Elapsed.TotalSeconds:0.00} s ({source.Length / Math.Max(clock.Elapsed.TotalSeconds, 1e-3) / 1e6:0.0} MB/s), verified by the receiver");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Receive()
    {
        var port = new Argument<int>("PORT") { Description = "TCP port to listen on." };
        var directory = new Option<string>("--out", "-o") { Description = "Directory to store the file in.", DefaultValueFactory = _ => "." };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "0.0.0.0" };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite a file of the same name." };
        var allowHidden = new Option<bool>("--allow-hidden") { Description = "Accept a file whose name starts with a dot." };
        var command = new Command("receive", "Receive one file from `ossuary send`. Nothing appears under the final name unless the whole file arrived and its hash matched.\nSay whom to accept it from: --authorized-keys FILE, --peer KEY|FINGERPRINT, or --accept-any.\n\nExample:\n  ossuary receive 7001 --out ~/incoming --peer hfax-d5nb-vopa-pk5d-m3b4-7y3j-hjzs-blki")
        {
            port, directory, bind, force, allowHidden,
        };
        foreach (Option option in ListenerOptions())
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            var endpoint = new IPEndPoint(Endpoints.ParseBind(result.GetValue(bind)!), Endpoints.CheckPort(result.GetValue(port)));
            ServerTrust trust = ServerTrustFrom(result).Check("receive", requireChoice: true);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            await using OssuaryListener listener = StartListener(endpoint,
                TrustSettings.Server(key, trust, FileTransfer.Protocol, result.GetValue(PostQuantum)), result, output);
            output.Note($"waiting for a file on {listener.LocalEndpoint}, fingerprint {key.PublicKey.Fingerprint}");
            await using OssuaryStream stream = await listener.AcceptAsync(cancellationToken);
            Describe(stream, output);
            string outDirectory = result.GetValue(directory)!;
            bool overwrite = result.GetValue(force);
            FileTransfer.Offer offer = await FileTransfer.ReadOfferAsync(stream, outDirectory, overwrite, result.GetValue(allowHidden), cancellationToken);
            output.Note($"receiving {offer.Name} ({offer.Size:N0} bytes) from {stream.RemotePublicKey!.Fingerprint}");
            long arrived = 0;
            string path;
            try
            {
                path = await TransferProgress.RunAsync($"receiving {offer.Name}", offer.Size,
                    progress => FileTransfer.ReceiveAsync(stream, offer, outDirectory, overwrite, done => progress(arrived = done), cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The temporary file is gone already (ReceiveAsync deletes it whatever happens): say what that means.
                Output.Error($"interrupted at {TransferAmount.Of(arrived, offer.Size)}: {PrintableText.Escape(offer.Name)} was not stored.");
                throw;
            }
            output.Note($"stored {path} ({offer.Size:N0} bytes, SHA-256 verified)");
            return ExitCodes.Success;
        });
        return command;
    }
}
