using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IdentityTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ossuary-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void PublicKeyTextFormRoundTripsAndFingerprintIsStable()
    {
        OssuaryPublicKey key = TestKeys.Server.PublicKey;
        Assert.Equal(44, key.ToString().Length);
        Assert.Equal(key, OssuaryPublicKey.Parse(key.ToString()));
        Assert.True(key == OssuaryPublicKey.Parse(key.ToString()));
        Assert.True(key != TestKeys.Client.PublicKey);
        Assert.False(key == null);
        Assert.Matches("^([a-z2-7]{4}-){7}[a-z2-7]{4}$", key.Fingerprint);
        Assert.NotEqual(key.Fingerprint, TestKeys.Client.PublicKey.Fingerprint);
        Assert.True(key.Matches(key.Fingerprint.ToUpperInvariant()));
        Assert.True(key.Matches(key.ToString()));
        Assert.False(key.Matches(TestKeys.Client.PublicKey.Fingerprint));
        Assert.False(OssuaryPublicKey.TryParse("not a key", out _));
        Assert.Equal(OssuaryErrorCode.InvalidKey, Assert.Throws<OssuaryException>(() => OssuaryPublicKey.Parse(Convert.ToBase64String(new byte[31]))).ErrorCode);
    }

    [Theory]
    [InlineData("D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyB=")] // the server key with an unused bit set: the same 32 bytes
    [InlineData("D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyD=")]
    [InlineData("D6poTtKIZ7l/Smot7l34zpdOdrc Bjj8iocTPJnhXDyA=")] // inner white space, which the decoder skips
    public void ABase64TextThatIsNotAKeysOneFormIsRefusedAndTheMessageSaysWhy(string text)
    {
        Assert.True(Convert.FromBase64String(text).AsSpan().SequenceEqual(TestKeys.Server.PublicKey.Bytes)); // what was accepted before
        Assert.False(OssuaryPublicKey.TryParse(text, out _));
        OssuaryException refused = Assert.Throws<OssuaryException>(() => OssuaryPublicKey.Parse(text));
        Assert.Equal(OssuaryErrorCode.InvalidKey, refused.ErrorCode);
        Assert.Contains("altered or mistyped", refused.Message);
        Assert.True(OssuaryPublicKey.TryParse("  D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA=\n", out OssuaryPublicKey? padded)); // surrounding space is fine
        Assert.Equal(TestKeys.Server.PublicKey, padded);
    }

    [Fact]
    public void AnAuthorizedKeysLineWithAKeyInAnotherBase64FormIsRefusedWithItsLineNumber()
    {
        string path = Path.Combine(_directory, "authorized_keys");
        File.WriteAllText(path, $"{TestKeys.Client.PublicKey} alice\nD6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyB= mallory\n");
        OssuaryException refused = Assert.Throws<OssuaryException>(() => AuthorizedKeys.Load(path));
        Assert.Equal(OssuaryErrorCode.KeyFileInvalid, refused.ErrorCode);
        Assert.Contains($"{path}:2: not a public key", refused.Message);
        Assert.Contains("altered or mistyped", refused.Message);
    }

    [Fact]
    public void FingerprintIsTheDocumentedDerivation()
    {
        // Base point 9 as a public key; recomputed here from the definition in docs/PROTOCOL.md.
        byte[] key = new byte[32];
        key[0] = 9;
        byte[] digest = new byte[64];
        Crypto.Primitives.Blake2b("OssuaryNet fingerprint v1"u8, key, default, digest);
        string base32 = ToBase32(digest.AsSpan(0, 20));
        string expected = string.Join('-', Enumerable.Range(0, 8).Select(i => base32.Substring(i * 4, 4)));
        Assert.Equal(expected, new OssuaryPublicKey(key).Fingerprint);
    }

    [Fact]
    public void FingerprintMatchesAnIndependentComputation()
    {
        // Computed outside .NET with Python's hashlib.blake2b and base64.b32encode (docs/PROTOCOL.md section 7).
        Assert.Equal("D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA=", TestKeys.Server.PublicKey.ToString());
        Assert.Equal("hfax-d5nb-vopa-pk5d-m3b4-7y3j-hjzs-blki", TestKeys.Server.PublicKey.Fingerprint);
    }

    private static string ToBase32(ReadOnlySpan<byte> data)
    {
        var bits = new System.Text.StringBuilder();
        foreach (byte b in data)
        {
            bits.Append(Convert.ToString(b, 2).PadLeft(8, '0'));
        }
        return string.Concat(Enumerable.Range(0, bits.Length / 5).Select(i => "abcdefghijklmnopqrstuvwxyz234567"[Convert.ToInt32(bits.ToString(i * 5, 5), 2)]));
    }

    [Fact]
    public void PrivateKeyFilesAreCreated0600AndLoadBack()
    {
        string path = Path.Combine(_directory, "id");
        using var key = OssuaryKeyPair.Generate();
        key.Save(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var loaded = OssuaryKeyPair.Load(path);
        Assert.Equal(key.PublicKey, loaded.PublicKey);
        Assert.StartsWith(key.PublicKey.ToString(), File.ReadAllText(path + ".pub"));
        Assert.DoesNotContain(key.PublicKey.ToString(), File.ReadAllText(path));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherWrite)]
    public void PrivateKeyFilesAccessibleByOthersAreRefused(UnixFileMode mode)
    {
        string path = Path.Combine(_directory, "id");
        using (var key = OssuaryKeyPair.Generate())
        {
            key.Save(path);
        }
        File.SetUnixFileMode(path, mode);
        var error = Assert.Throws<OssuaryException>(() => OssuaryKeyPair.Load(path));
        Assert.Equal(OssuaryErrorCode.KeyFilePermissions, error.ErrorCode);
        Assert.Contains("chmod 600", error.Message);
    }

    [Fact]
    public void SavingOverAnExistingKeyNeedsOverwrite()
    {
        string path = Path.Combine(_directory, "id");
        using var first = OssuaryKeyPair.Generate();
        using var second = OssuaryKeyPair.Generate();
        first.Save(path);
        Assert.Equal(OssuaryErrorCode.KeyFileInvalid, Assert.Throws<OssuaryException>(() => second.Save(path)).ErrorCode);
        using (var stillFirst = OssuaryKeyPair.Load(path))
        {
            Assert.Equal(first.PublicKey, stillFirst.PublicKey);
        }
        second.Save(path, overwrite: true);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var nowSecond = OssuaryKeyPair.Load(path);
        Assert.Equal(second.PublicKey, nowSecond.PublicKey);
    }

    [Fact]
    public void CorruptOrMissingKeyFilesAreTyped()
    {
        string path = Path.Combine(_directory, "id");
        File.WriteAllText(path, "-----BEGIN OSSUARY PRIVATE KEY-----\nnot base64\n-----END OSSUARY PRIVATE KEY-----\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(OssuaryErrorCode.KeyFileInvalid, Assert.Throws<OssuaryException>(() => OssuaryKeyPair.Load(path)).ErrorCode);
        Assert.Equal(OssuaryErrorCode.KeyFileInvalid, Assert.Throws<OssuaryException>(() => OssuaryKeyPair.Load(path + ".missing")).ErrorCode);
    }

    [Fact]
    public void DisposedKeyPairCannotBeUsed()
    {
        var key = OssuaryKeyPair.Generate();
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => OssuaryConnection.CreateClient(new OssuaryClientOptions { StaticKeyPair = key, PeerVerifier = PeerVerifier.AcceptAny }));
    }

    [Fact]
    public void TofuRecordsFirstContactAcceptsRepeatAndRejectsAChangedKey()
    {
        string path = Path.Combine(_directory, "known_hosts");
        var knownHosts = new KnownHosts(path);
        var first = new PeerIdentity(TestKeys.Server.PublicKey, "db.example:7000", PeerIsServer: true);
        Assert.True(knownHosts.Verify(first).IsAccepted);
        Assert.Equal(TestKeys.Server.PublicKey, knownHosts.Lookup("db.example:7000"));
        Assert.True(knownHosts.Verify(first).IsAccepted);
        Assert.Single(File.ReadAllLines(path));

        PeerVerdict changed = knownHosts.Verify(first with { PublicKey = TestKeys.Other.PublicKey });
        Assert.False(changed.IsAccepted);
        Assert.Equal(OssuaryErrorCode.PeerKeyChanged, changed.ErrorCode);
        Assert.Contains("db.example:7000", changed.Reason);
        Assert.Contains(TestKeys.Server.PublicKey.Fingerprint, changed.Reason);
        Assert.Contains(TestKeys.Other.PublicKey.Fingerprint, changed.Reason);

        Assert.True(knownHosts.Verify(first with { Endpoint = "other.example:7000", PublicKey = TestKeys.Other.PublicKey }).IsAccepted);
        Assert.Equal(2, knownHosts.Entries.Count);
        Assert.True(knownHosts.Remove("db.example:7000"));
        Assert.False(knownHosts.Remove("db.example:7000"));
        Assert.Null(knownHosts.Lookup("db.example:7000"));
    }

    [Fact]
    public void TofuPoliciesRejectOrAsk()
    {
        string path = Path.Combine(_directory, "known_hosts");
        var peer = new PeerIdentity(TestKeys.Server.PublicKey, "h:1", PeerIsServer: true);
        Assert.False(new KnownHosts(path, TofuPolicy.Reject).Verify(peer).IsAccepted);
        Assert.False(new KnownHosts(path, TofuPolicy.Ask) { ConfirmFirstContact = (_, _) => ValueTask.FromResult(false) }.Verify(peer).IsAccepted);
        Assert.False(File.Exists(path) && File.ReadAllText(path).Contains("h:1"));
        Assert.True(new KnownHosts(path, TofuPolicy.Ask) { ConfirmFirstContact = (p, _) => ValueTask.FromResult(p.Endpoint == "h:1") }.Verify(peer).IsAccepted);
        Assert.True(new KnownHosts(path, TofuPolicy.Reject).Verify(peer).IsAccepted); // now recorded
        Assert.False(new KnownHosts(path).Verify(peer with { Endpoint = null }).IsAccepted);
    }

    [Fact]
    public void TofuThroughRealHandshakesThenPinnedIK()
    {
        string path = Path.Combine(_directory, "known_hosts");
        var knownHosts = new KnownHosts(path);
        using (var first = new ConnectionPair(ConnectionPair.ClientOptions(knownHosts), ConnectionPair.ServerOptions()))
        {
            first.Pump();
            Assert.Equal(OssuaryHandshakePattern.XX, first.Server.Pattern);
            Assert.Equal(OssuaryConnectionState.Established, first.Client.State);
        }
        // Second contact: the core pins the recorded key itself, so the handshake is IK.
        using (var second = new ConnectionPair(ConnectionPair.ClientOptions(knownHosts), ConnectionPair.ServerOptions()))
        {
            second.Pump();
            Assert.Equal(OssuaryHandshakePattern.IK, second.Server.Pattern);
            Assert.Equal(OssuaryConnectionState.Established, second.Client.State);
        }
        // A server with another key at the same endpoint cannot answer the IK handshake to the recorded key...
        var impostor = ConnectionPair.ServerOptions();
        impostor.StaticKeyPair = TestKeys.Other;
        using (var third = new ConnectionPair(ConnectionPair.ClientOptions(knownHosts), impostor))
        {
            Assert.Equal(OssuaryErrorCode.AuthenticationFailed, Assert.Throws<OssuaryException>(third.Pump).ErrorCode);
            Assert.Equal(OssuaryHandshakePattern.IK, third.Client.Pattern);
        }
        // ...and when asked with XX (as OssuaryClient does to name the new key) it is refused with PeerKeyChanged.
        var learn = ConnectionPair.ClientOptions(knownHosts);
        learn.UseRecordedServerKey = false;
        using var fourth = new ConnectionPair(learn, impostor);
        Assert.Equal(OssuaryErrorCode.PeerKeyChanged, Assert.Throws<OssuaryException>(fourth.Pump).ErrorCode);
    }

    [Fact]
    public void ConcurrentFirstContactsFromManyThreadsLoseNoEntry()
    {
        string path = Path.Combine(_directory, "known_hosts");
        Parallel.For(0, 40, i =>
        {
            var knownHosts = new KnownHosts(path);
            Assert.True(knownHosts.Verify(new PeerIdentity(TestKeys.Server.PublicKey, $"host{i}:1", true)).IsAccepted);
        });
        Assert.Equal(40, new KnownHosts(path).Entries.Count);
        Assert.Equal(["known_hosts"], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName)); // no lock file, no temporary file left
    }

    [Fact]
    public void RewritesFromManyThreadsAtOnceAreSerializedThoughTheLockFileIsRemovedEachTime()
    {
        // Every update reads a counter and writes it back plus one: a lock that two writers held at once (one of them
        // on a lock file already removed) would lose increments.
        string path = Path.Combine(_directory, "counter");
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
            TrustFile.Update(path, lines =>
            {
                int count = lines.Count == 0 ? 0 : int.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
                lines.Clear();
                lines.Add((count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return (true, 0);
            }));
        Assert.Equal("400", File.ReadAllText(path).Trim());
        Assert.False(File.Exists(path + ".lock"));
    }

    [Fact]
    public void AuthorizedKeysFileIsParsedWithCommentsAndBadLinesAreTyped()
    {
        string path = Path.Combine(_directory, "authorized_keys");
        File.WriteAllLines(path, ["# admins", "", $"{TestKeys.Client.PublicKey} alice@laptop", $"  {TestKeys.Other.PublicKey}"]);
        AuthorizedKeys keys = AuthorizedKeys.Load(path);
        Assert.Equal(2, keys.Keys.Count);
        Assert.True(keys.Verify(new PeerIdentity(TestKeys.Client.PublicKey, null, false)).IsAccepted);
        PeerVerdict rejected = keys.Verify(new PeerIdentity(TestKeys.Server.PublicKey, "10.1.1.1:5", false));
        Assert.False(rejected.IsAccepted);
        Assert.Contains(TestKeys.Server.PublicKey.Fingerprint, rejected.Reason);
        File.AppendAllLines(path, ["garbage"]);
        Assert.Contains(":5:", Assert.Throws<OssuaryException>(() => AuthorizedKeys.Load(path)).Message);
    }
}
