using System.Globalization;
using System.Buffers.Binary;
using System.Text;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>
/// Known-answer packets of datagram mode, for docs/PROTOCOL.md section 12.14: fixed static keys, every random value
/// drawn (listed in order), fixed times ⇒ byte-exact packets of every type. The test fails when code and document
/// disagree; OSSUARY_UPDATE_DOCS=1 rewrites the blocks after an intended change.
/// </summary>
public sealed class DatagramVectorTests
{
    private static readonly byte[] ClientAddress = [0xC1, 0x1E], ServerAddress = [0x5E, 0x7E];

    [Fact]
    public void TheDocumentShowsThePacketsThisImplementationProduces()
    {
        string path = Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "docs", "PROTOCOL.md");
        string document = File.ReadAllText(path);
        foreach ((string name, Func<string> generate) in Vectors)
        {
            string begin = $"<!-- datagram vectors {name} begin -->\n```text\n", end = $"```\n<!-- datagram vectors {name} end -->";
            int start = document.IndexOf(begin, StringComparison.Ordinal);
            int stop = document.IndexOf(end, StringComparison.Ordinal);
            string generated = generate();
            Assert.Equal(generated, generate()); // deterministic
            if (Environment.GetEnvironmentVariable("OSSUARY_UPDATE_DOCS") == "1" && start >= 0 && stop > start)
            {
                document = document[..(start + begin.Length)] + generated + document[stop..];
                File.WriteAllText(path, document);
                continue;
            }
            Assert.True(start >= 0 && stop > start, $"docs/PROTOCOL.md has no datagram vectors block {name}");
            Assert.Equal(generated, document[(start + begin.Length)..stop]);
        }
    }

    private static readonly (string Name, Func<string> Generate)[] Vectors =
    [
        ("XX", () => Run(ik: false, cookie: false, OssuarySuite.ChaChaPolyBlake2b)),
        ("IK", () => Run(ik: true, cookie: false, OssuarySuite.ChaChaPolyBlake2b)),
        ("IK-cookie-AESGCM", () => Run(ik: true, cookie: true, OssuarySuite.AesGcmSha256)),
    ];

    /// <summary>A random source that draws from a fixed seed and writes every draw down, so that the document can list them.</summary>
    private sealed class RecordedRandom(int seed, string owner, StringBuilder log) : IRandomSource
    {
        private readonly Random _random = new(seed);
        private bool _secretDrawn;

        public void Fill(Span<byte> destination)
        {
            _random.NextBytes(destination);
            string meaning = destination.Length switch
            {
                4 => "session id (u32 LE)",
                2 => "timer jitter (u16 LE, taken mod 334 as milliseconds)",
                8 => "path challenge",
                _ when !_secretDrawn => "retry secret (the endpoint draws it first)",
                _ => "ephemeral private key",
            };
            _secretDrawn |= destination.Length == 32;
            log.Append(CultureInfo.InvariantCulture, $"  {owner} draws {Convert.ToHexStringLower(destination)}  {meaning}\n");
        }
    }

    private static string Run(bool ik, bool cookie, OssuarySuite suite)
    {
        var draws = new StringBuilder();
        var text = new StringBuilder();
        TimeSpan now = TimeSpan.Zero;
        DateTimeOffset wallClock = new(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        using var client = new DatagramEndpoint(new DatagramOptions { Identity = TestKeys.Client, Suite = suite, WallClockAtStart = wallClock }, now, new RecordedRandom(1, "client", draws));
        using var server = new DatagramEndpoint(new DatagramOptions
        {
            Identity = TestKeys.Server,
            Suite = suite,
            AcceptConnections = true,
            AcceptEarlyData = true,
            AddressValidation = cookie ? DatagramAddressValidation.Always : DatagramAddressValidation.Never,
        }, now, new RecordedRandom(2, "server", draws));

        text.Append(CultureInfo.InvariantCulture, $"suite                 {(suite == OssuarySuite.ChaChaPolyBlake2b ? "Noise_*_25519_ChaChaPoly_BLAKE2b" : "Noise_*_25519_AESGCM_SHA256")}\n");
        text.Append(CultureInfo.InvariantCulture, $"client static private {Convert.ToHexStringLower(TestKeys.Fill(0x11))}\n");
        text.Append(CultureInfo.InvariantCulture, $"client static public  {Convert.ToHexStringLower(TestKeys.Client.PublicKey.Bytes)}\n");
        text.Append(CultureInfo.InvariantCulture, $"server static private {Convert.ToHexStringLower(TestKeys.Fill(0x22))}\n");
        text.Append(CultureInfo.InvariantCulture, $"server static public  {Convert.ToHexStringLower(TestKeys.Server.PublicKey.Bytes)}\n");
        text.Append(CultureInfo.InvariantCulture, $"service label         \"ossuary\"; client address {Convert.ToHexStringLower(ClientAddress)}, server address {Convert.ToHexStringLower(ServerAddress)}\n");
        if (ik)
        {
            text.Append(CultureInfo.InvariantCulture, $"client wall clock     {wallClock:yyyy-MM-ddTHH:mm:ssZ} at time 0 (timestamp = that + time elapsed)\n");
        }
        text.Append("randomness, in the order drawn (client and server have their own sources):\n");
        int drawsShown = 0;
        void Draws()
        {
            string all = draws.ToString();
            text.Append(all[drawsShown..]);
            drawsShown = all.Length;
        }
        Draws();
        text.Append('\n');

        byte[] packet = new byte[1200], address = new byte[64];
        int number = 0;
        // Moves every packet one endpoint has to the other, printing each, until both are quiet.
        void Exchange()
        {
            bool moved = true;
            while (moved)
            {
                moved = false;
                foreach ((DatagramEndpoint from, DatagramEndpoint to, string direction, byte[] fromAddress) in
                    ((DatagramEndpoint, DatagramEndpoint, string, byte[])[])[(client, server, "client → server", ClientAddress), (server, client, "server → client", ServerAddress)])
                {
                    Answer(from);
                    while (from.TryPollTransmit(packet, address, out int length, out _))
                    {
                        moved = true;
                        Draws();
                        Describe(text, ++number, direction, packet.AsSpan(0, length));
                        to.HandleDatagram(packet.AsSpan(0, length), fromAddress, now);
                        Answer(to);
                    }
                }
            }
            Draws();
        }
        void Answer(DatagramEndpoint endpoint)
        {
            while (endpoint.TryPollEvent(out DatagramEvent e))
            {
                if (e.Kind == DatagramEventKind.VerificationRequired)
                {
                    endpoint.CompletePeerVerification(e.Handle, PeerVerdict.Accept(), now);
                }
            }
        }

        DatagramHandle handle = client.Connect(ServerAddress, ik ? TestKeys.Server.PublicKey : null, now, ik ? "early"u8 : default);
        Exchange();
        now += TimeSpan.FromMilliseconds(10);
        text.Append("(10 ms later the client sends the datagram \"hello\" (inner plaintext 68656c6c6f 01), then closes with the\n"
            + " application's reason code 260 = 0x0104 (inner plaintext 0401 02: the code little-endian, then the close type);\n"
            + " a 32-byte Data packet is a keepalive, whose inner plaintext is empty)\n\n");
        client.Send(handle, "hello"u8, now);
        client.Close(handle, 0x0104, now);
        Exchange();
        return text.ToString();
    }

    private static void Describe(StringBuilder text, int number, string direction, ReadOnlySpan<byte> packet)
    {
        string[] names = ["?", "Initiation", "Response", "Finish", "CookieReply", "Data"];
        text.Append(CultureInfo.InvariantCulture, $"packet {number}, {direction}: {names[packet[0]]}, {packet.Length} bytes\n");
        void Field(string label, ReadOnlySpan<byte> bytes)
        {
            string hex = Convert.ToHexStringLower(bytes);
            for (int i = 0; i < hex.Length || i == 0; i += 64)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {(i == 0 ? label : ""),-34}{hex.AsSpan(i, Math.Min(64, hex.Length - i))}\n");
            }
        }
        switch (packet[0])
        {
            case 1:
                int t = packet[3];
                int noise = BinaryPrimitives.ReadUInt16LittleEndian(packet[(8 + t)..]);
                Field("type, version, pattern, T", packet[..4]);
                Field("initiator session id", packet[4..8]);
                if (t > 0)
                {
                    Field("token", packet.Slice(8, t));
                }
                Field("Noise length", packet.Slice(8 + t, 2));
                Field("Noise message 1", packet.Slice(10 + t, noise));
                text.Append(CultureInfo.InvariantCulture, $"  {"zero padding",-34}{packet.Length - 16 - 10 - t - noise} bytes\n");
                Field("mac1", packet[^16..]);
                break;
            case 2:
                Field("type, version, pattern, 0", packet[..4]);
                Field("responder session id", packet[4..8]);
                Field("initiator session id", packet[8..12]);
                Field("Noise length", packet[12..14]);
                Field("Noise message 2", packet[14..]);
                break;
            case 3:
                Field("type, version, 0, 0", packet[..4]);
                Field("responder session id", packet[4..8]);
                Field("Noise length", packet[8..10]);
                Field("Noise message 3", packet[10..]);
                break;
            case 4:
                Field("type, version, 0, T", packet[..4]);
                Field("initiator session id", packet[4..8]);
                Field("echo of mac1", packet[8..24]);
                Field("token", packet[24..]);
                break;
            default:
                Field("type, version, 0, 0", packet[..4]);
                Field("receiver session id", packet[4..8]);
                Field("counter", packet[8..16]);
                Field("ciphertext and tag", packet[16..]);
                break;
        }
        text.Append('\n');
    }
}
