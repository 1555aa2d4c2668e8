using System.Text;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>`known-hosts list` and `authorized-keys list` show everything their files say, and say when there is nothing.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliTrustListingTests : CliHomes
{
    private string TrustFile(string name, string content)
    {
        string path = Path.Combine(Home, ".config", "ossuary", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task AuthorizedKeysListShowsEachKeysCommentAndPqMark()
    {
        TrustFile("authorized_keys", $"# team\n{TestKeys.Client.PublicKey} alice@laptop (office)\npq {TestKeys.Other.PublicKey} build server\n{TestKeys.Server.PublicKey}\n");
        var (code, stdout, stderr) = await CliProcess.Run(Home, null, "authorized-keys", "list");
        Assert.True(code == 0, stderr);
        Assert.Equal(
        [
            $"{TestKeys.Client.PublicKey.Fingerprint}  {TestKeys.Client.PublicKey}  alice@laptop (office)",
            $"{TestKeys.Other.PublicKey.Fingerprint}  {TestKeys.Other.PublicKey}  pq  build server",
            $"{TestKeys.Server.PublicKey.Fingerprint}  {TestKeys.Server.PublicKey}",
        ], Encoding.UTF8.GetString(stdout).TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task ACommentIsPrintedEscaped()
    {
        var add = await CliProcess.Run(Home, null, "authorized-keys", "add", TestKeys.Client.PublicKey.ToString(), "mallory\u001b[2J");
        Assert.True(add.Code == 0, add.Stderr);
        var (code, stdout, _) = await CliProcess.Run(Home, null, "authorized-keys", "list");
        Assert.Equal(0, code);
        string listed = Encoding.UTF8.GetString(stdout);
        Assert.Contains("mallory\\u{001B}[2J", listed);
        Assert.DoesNotContain("\u001b", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnownHostsListMarksTheServersThatSpokePostQuantum()
    {
        TrustFile("known_hosts", $"db.example:7000 {TestKeys.Server.PublicKey} pq\nold.example:7000 {TestKeys.Other.PublicKey}\n");
        var (code, stdout, stderr) = await CliProcess.Run(Home, null, "known-hosts", "list");
        Assert.True(code == 0, stderr);
        Assert.Equal(
        [
            $"db.example:7000  {TestKeys.Server.PublicKey.Fingerprint}  {TestKeys.Server.PublicKey}  pq",
            $"old.example:7000  {TestKeys.Other.PublicKey.Fingerprint}  {TestKeys.Other.PublicKey}",
        ], Encoding.UTF8.GetString(stdout).TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("known-hosts", "no server is recorded in ")]
    [InlineData("authorized-keys", "no client key is allowed in ")]
    public async Task AnEmptyListSaysSoOnStderrAndNamesTheFile(string command, string expected)
    {
        var (code, stdout, stderr) = await CliProcess.Run(Home, null, command, "list");
        Assert.Equal(0, code);
        Assert.Empty(stdout); // stdout stays a list, for scripts
        Assert.Contains(expected + Path.Combine(Home, ".config", "ossuary", command == "known-hosts" ? "known_hosts" : "authorized_keys"), stderr);
    }
}
