using System.Diagnostics;
using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Bench;

/// <summary>
/// Where the bulk benchmark's time goes: the same 16 MiB transfer over loopback (16 KiB writes, the peer draining),
/// timed together with the CPU time the whole process used (user and kernel, all threads), for every channel; and the
/// CPU time the AEAD alone needs for the same data (seal + open of 1024 records of 16 KiB). With both ends on two
/// cores, no channel can finish faster than (raw's CPU + the AEAD's CPU) / 2. Not a BenchmarkDotNet benchmark:
/// BenchmarkDotNet measures time, not CPU.
/// </summary>
internal static class BulkCpu
{
    private const int WriteSize = 16 * 1024;
    private const int BulkBytes = 16 << 20;
    private const int Rounds = 3;

    public static async Task RunAsync(int operations)
    {
        Channel[] channels = [Channel.Raw, Channel.Ossuary, Channel.OssuaryAesGcm, Channel.Tls13];
        var pairs = new Dictionary<Channel, (Stream Client, Stream Server)>();
        foreach (Channel channel in channels)
        {
            pairs[channel] = await Endpoints.Pair(channel, Transport.Loopback);
            for (int i = 0; i < 20; i++)
            {
                await TransferAsync(pairs[channel]); // warm up: tiered compilation, pools, TCP windows
            }
        }

        // Rounds interleave the channels, so drift in the machine's speed touches all of them alike.
        var samples = channels.ToDictionary(c => c, _ => new List<(double Wall, double User, double System)>());
        for (int round = 0; round < Rounds; round++)
        {
            foreach (Channel channel in channels)
            {
                samples[channel].Add(await MeasureAsync(pairs[channel], operations));
            }
        }
        foreach (var (client, server) in pairs.Values)
        {
            await client.DisposeAsync();
            await server.DisposeAsync();
        }

        Console.WriteLine($"16 MiB over loopback TCP in 16 KiB writes; per transfer, median of {Rounds} rounds of {operations}:");
        Console.WriteLine("| channel | wall | CPU user | CPU kernel | CPU total | cores busy |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        var medians = new Dictionary<Channel, (double Wall, double User, double System)>();
        foreach (Channel channel in channels)
        {
            var sorted = samples[channel].OrderBy(s => s.Wall).ToList();
            var m = sorted[sorted.Count / 2];
            medians[channel] = m;
            Console.WriteLine($"| {channel} | {m.Wall:F2} ms | {m.User:F2} ms | {m.System:F2} ms | {m.User + m.System:F2} ms | {(m.User + m.System) / m.Wall:F2} |");
        }

        double chacha = AeadCpuMilliseconds(ChaChaPolyCipher.Instance);
        double aes = AeadCpuMilliseconds(AesGcmCipher.Instance);
        var raw = medians[Channel.Raw];
        double rawCpu = raw.User + raw.System;
        Console.WriteLine();
        Console.WriteLine($"AEAD alone, seal + open of 1024 × 16 KiB: ChaCha20-Poly1305 {chacha:F2} ms, AES-256-GCM {aes:F2} ms of CPU");
        Console.WriteLine($"floor on 2 cores, (raw CPU + AEAD CPU) / 2: ChaCha {(rawCpu + chacha) / 2:F2} ms, AES-GCM {(rawCpu + aes) / 2:F2} ms");
        Console.WriteLine($"targets: 70 % of raw = {raw.Wall / 0.7:F2} ms; 1.5× SslStream = {medians[Channel.Tls13].Wall / 1.5:F2} ms");
    }

    private static async Task<(double Wall, double User, double System)> MeasureAsync((Stream Client, Stream Server) pair, int operations)
    {
        using Process process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan user = process.UserProcessorTime, system = process.PrivilegedProcessorTime;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < operations; i++)
        {
            await TransferAsync(pair);
        }
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        process.Refresh();
        return (wall / operations, (process.UserProcessorTime - user).TotalMilliseconds / operations,
            (process.PrivilegedProcessorTime - system).TotalMilliseconds / operations);
    }

    private static readonly byte[] Chunk = RandomNumberGenerator.GetBytes(WriteSize);
    private static readonly byte[] Drain = new byte[64 * 1024];

    private static async Task TransferAsync((Stream Client, Stream Server) pair)
    {
        Task drain = DrainAsync(pair.Server);
        for (int sent = 0; sent < BulkBytes; sent += WriteSize)
        {
            await pair.Client.WriteAsync(Chunk);
        }
        await drain;
    }

    private static async Task DrainAsync(Stream stream)
    {
        for (long received = 0; received < BulkBytes;)
        {
            int read = await stream.ReadAsync(Drain);
            received += read > 0 ? read : throw new EndOfStreamException();
        }
    }

    /// <summary>Time (on one busy thread, so CPU time) for sealing and opening 1024 records of 16 KiB with <paramref name="cipher"/>, best of 5.</summary>
    private static double AeadCpuMilliseconds(NoiseCipher cipher)
    {
        byte[] key = RandomNumberGenerator.GetBytes(NoiseCipher.KeySize);
        byte[] plaintext = RandomNumberGenerator.GetBytes(WriteSize + 1); // a record's inner plaintext: payload + type
        byte[] sealedRecord = new byte[plaintext.Length + NoiseCipher.TagSize];
        byte[] opened = new byte[plaintext.Length];
        IDisposable? backend = null;
        double best = double.MaxValue;
        try
        {
            for (int attempt = 0; attempt < 5; attempt++)
            {
                long start = Stopwatch.GetTimestamp();
                for (ulong nonce = 0; nonce < BulkBytes / WriteSize; nonce++)
                {
                    cipher.Seal(key, ref backend, nonce, default, plaintext, sealedRecord);
                    if (!cipher.Open(key, ref backend, nonce, default, sealedRecord, opened))
                    {
                        throw new CryptographicException("A record sealed here failed to open.");
                    }
                }
                // One thread does the work, so its wall time is its CPU time; the process's CPU clock (10 ms ticks
                // here) is too coarse for a run this short.
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        finally
        {
            backend?.Dispose();
        }
        return best;
    }
}
