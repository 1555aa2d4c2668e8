using System.Globalization;
using System.Text;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// Produces the annotated example transcripts of docs/PROTOCOL.md from the implementation (fixed test keys,
/// deterministic ephemeral keys) and checks that the document shows exactly them. Set OSSUARY_UPDATE_DOCS=1 to
/// rewrite the document's transcript blocks after an intended wire change.
/// </summary>
public sealed class ProtocolDocumentTests
{
    [Fact]
    public void TheDocumentShowsTheTranscriptsThisImplementationProduces()
    {
        string path = Path.Combine(RepositoryRoot(), "docs", "PROTOCOL.md");
        string document = File.ReadAllText(path);
        foreach ((string name, bool ik, OssuarySuite suite, string context) in Transcripts)
        {
            string begin = $"<!-- transcript {name} begin -->\n```text\n", end = $"```\n<!-- transcript {name} end -->";
            int start = document.IndexOf(begin, StringComparison.Ordinal);
            int stop = document.IndexOf(end, StringComparison.Ordinal);
            Assert.True(start >= 0 && stop > start, $"docs/PROTOCOL.md has no {name} transcript block");
            string generated = Generate(ik, suite, context);
            if (Environment.GetEnvironmentVariable("OSSUARY_UPDATE_DOCS") == "1")
            {
                document = document[..(start + begin.Length)] + generated + document[stop..];
                File.WriteAllText(path, document);
                continue;
            }
            Assert.Equal(generated, document[(start + begin.Length)..stop]);
        }
    }

    /// <summary>The transcripts the document shows: both patterns, the AES-GCM suite, and a non-empty application context.</summary>
    private static readonly (string Name, bool Ik, OssuarySuite Suite, string Context)[] Transcripts =
    [
        ("XX", false, OssuarySuite.ChaChaPolyBlake2b, ""),
        ("IK", true, OssuarySuite.ChaChaPolyBlake2b, ""),
        ("XX-AESGCM", false, OssuarySuite.AesGcmSha256, ""),
        ("IK-context", true, OssuarySuite.ChaChaPolyBlake2b, "example.org/chat v2"),
    ];

    private static string Generate(bool ik, OssuarySuite suite, string context)
    {
        OssuaryClientOptions clientOptions = ConnectionPair.ClientOptions(pinServer: ik);
        OssuaryServerOptions serverOptions = ConnectionPair.ServerOptions();
        clientOptions.Suite = suite;
        clientOptions.ApplicationContext = context;
        serverOptions.ApplicationContext = context;
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"client static private {Convert.ToHexStringLower(TestKeys.Fill(0x11))}\n");
        text.Append(CultureInfo.InvariantCulture, $"client static public  {Convert.ToHexStringLower(TestKeys.Client.PublicKey.Bytes)}\n");
        text.Append(CultureInfo.InvariantCulture, $"server static private {Convert.ToHexStringLower(TestKeys.Fill(0x22))}\n");
        text.Append(CultureInfo.InvariantCulture, $"server static public  {Convert.ToHexStringLower(TestKeys.Server.PublicKey.Bytes)}\n");
        text.Append(context.Length == 0 ? "application context   \"\" (empty)\n\n"
            : $"application context   \"{context}\" (UTF-8 {Convert.ToHexStringLower(Encoding.UTF8.GetBytes(context))})\n\n");

        int flight = 0;
        void Flight(string direction, List<byte> wire, bool handshake)
        {
            byte[] bytes = wire.ToArray();
            wire.Clear();
            int offset = 0;
            while (offset < bytes.Length)
            {
                int length = bytes[offset] << 8 | bytes[offset + 1];
                ReadOnlySpan<byte> body = bytes.AsSpan(offset + 2, length);
                text.Append(CultureInfo.InvariantCulture, $"{direction} frame {++flight}: {length + 2} bytes\n");
                Field("length", bytes.AsSpan(offset, 2));
                if (handshake && flight == 1)
                {
                    Field("magic \"OSSY\"", body[..4]);
                    Field("version, pattern, suite, reserved", body[4..8]);
                    body = body[8..];
                    Field("e (initiator ephemeral)", body[..32]);
                    if (ik)
                    {
                        Field("s (initiator static, encrypted + tag)", body[32..80]);
                        Field("payload: extensions (encrypted + tag)", body[80..]);
                    }
                }
                else if (handshake)
                {
                    Field("kind (0x00 = handshake message)", body[..1]);
                    body = body[1..];
                    if (direction == "S->C")
                    {
                        Field("e (responder ephemeral)", body[..32]);
                        body = body[32..];
                        if (!ik)
                        {
                            Field("s (responder static, encrypted + tag)", body[..48]);
                            body = body[48..];
                        }
                    }
                    else
                    {
                        Field("s (initiator static, encrypted + tag)", body[..48]);
                        body = body[48..];
                    }
                    Field("payload: extensions (encrypted + tag)", body);
                }
                else
                {
                    Field("record (encrypted inner + tag)", body);
                }
                offset += 2 + length;
            }
        }

        void Field(string label, ReadOnlySpan<byte> value)
        {
            string hex = Convert.ToHexStringLower(value);
            text.Append(CultureInfo.InvariantCulture, $"  {label}\n");
            for (int i = 0; i < hex.Length; i += 64)
            {
                text.Append(CultureInfo.InvariantCulture, $"    {hex.AsSpan(i, Math.Min(64, hex.Length - i))}\n");
            }
        }

        byte[] NextFrames(OssuaryConnection from) => HandshakeTests.Drain(from);

        pair.ToServer.AddRange(NextFrames(pair.Client));
        Flight("C->S", [.. pair.ToServer], handshake: true);
        pair.Server.Receive(pair.ToServer.ToArray(), default, out _, out _);
        pair.Server.VerifyPendingPeer();
        pair.ToServer.Clear();
        byte[] reply = NextFrames(pair.Server);
        Flight("S->C", [.. reply], handshake: true);
        pair.Client.Receive(reply, default, out _, out _);
        pair.Client.VerifyPendingPeer();
        if (!ik)
        {
            byte[] third = NextFrames(pair.Client);
            Flight("C->S", [.. third], handshake: true);
            pair.Server.Receive(third, default, out _, out _);
            pair.Server.VerifyPendingPeer();
        }
        text.Append(CultureInfo.InvariantCulture, $"handshake hash {Convert.ToHexStringLower(pair.Client.HandshakeHash)}\n");
        text.Append(CultureInfo.InvariantCulture, $"protocol {pair.Client.NoiseProtocolName}\n\n");

        var records = new System.Buffers.ArrayBufferWriter<byte>();
        pair.Client.Send("hello"u8, records);
        text.Append("client sends \"hello\" (inner plaintext 68656c6c6f || 01 = data):\n");
        Flight("C->S", [.. records.WrittenSpan], handshake: false);
        records.ResetWrittenCount();
        pair.Client.Close();
        pair.Client.Send(default, records);
        text.Append("client closes (inner plaintext 02 = close):\n");
        Flight("C->S", [.. records.WrittenSpan], handshake: false);
        return text.ToString();
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OssuaryNet.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root (OssuaryNet.sln) above the test binaries.");
    }
}
