using OssuaryNet.Identity;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// <see cref="OssuaryKeyPair.LoadOrCreate(string)"/>: the helper every program that keeps its identity in a file needs,
/// with the file rules of Save and Load (0600 files, 0700 directories, group- or world-accessible files refused).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyPairLoadOrCreateTests : IDisposable
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerReadWrite | UnixFileMode.UserExecute;

    private readonly string _directory = Directory.CreateTempSubdirectory("ossuary-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TheFirstCallCreatesTheFileAndItsDirectoriesPrivatelyAndLaterCallsLoadTheSameKey()
    {
        string path = Path.Combine(_directory, "etc", "ossuary", "id");
        using OssuaryKeyPair first = OssuaryKeyPair.LoadOrCreate(path, out bool created);
        Assert.True(created);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(path));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(Path.Combine(_directory, "etc", "ossuary")));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(Path.Combine(_directory, "etc")));
        Assert.StartsWith(first.PublicKey.ToString(), File.ReadAllText(path + ".pub"), StringComparison.Ordinal);

        using OssuaryKeyPair second = OssuaryKeyPair.LoadOrCreate(path, out bool createdAgain);
        Assert.False(createdAgain);
        Assert.Equal(first.PublicKey, second.PublicKey);
        using OssuaryKeyPair third = OssuaryKeyPair.LoadOrCreate(path);
        Assert.Equal(first.PublicKey, third.PublicKey);
        Assert.Equal(["id", "id.pub"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    public void AnExistingKeyThatOthersCanReadIsRefusedAndLeftAlone(UnixFileMode mode)
    {
        string path = Path.Combine(_directory, "id");
        using (OssuaryKeyPair.LoadOrCreate(path))
        {
        }
        string before = File.ReadAllText(path);
        File.SetUnixFileMode(path, mode);
        var error = Assert.Throws<OssuaryException>(() => OssuaryKeyPair.LoadOrCreate(path));
        Assert.Equal(OssuaryErrorCode.KeyFilePermissions, error.ErrorCode);
        Assert.Contains(path, error.Message);
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    [Fact]
    public void AFileThatIsNotAKeyIsAnErrorAndIsNeverOverwritten()
    {
        string path = Path.Combine(_directory, "id");
        File.WriteAllText(path, "not a key\n");
        File.SetUnixFileMode(path, OwnerReadWrite);
        var error = Assert.Throws<OssuaryException>(() => OssuaryKeyPair.LoadOrCreate(path));
        Assert.Equal(OssuaryErrorCode.KeyFileInvalid, error.ErrorCode);
        Assert.Equal("not a key\n", File.ReadAllText(path));
    }

    [Fact]
    public void AnExistingDirectoryKeepsItsMode()
    {
        string directory = Path.Combine(_directory, "shared");
        Directory.CreateDirectory(directory, OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(Path.Combine(directory, "id"));
        Assert.Equal(OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(directory));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(directory, "id")));
    }

    [Fact]
    public async Task CallersRacingForOneNewFileAllGetTheOneKeyThatWasStored()
    {
        for (int round = 0; round < 20; round++)
        {
            string path = Path.Combine(_directory, $"race-{round}", "id");
            using var start = new Barrier(8);
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(path, out bool created);
                return (Key: key.PublicKey, Created: created);
            }))).WaitAsync(Loopback.Guard);
            using OssuaryKeyPair stored = OssuaryKeyPair.Load(path);
            Assert.All(results, result => Assert.Equal(stored.PublicKey, result.Key));
            Assert.Single(results, result => result.Created);
            Assert.Equal(["id", "id.pub"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order()); // no temporary file left
        }
    }
}
