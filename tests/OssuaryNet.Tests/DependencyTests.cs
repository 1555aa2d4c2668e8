using OssuaryNet.Crypto;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>OssuaryNet needs no system libsodium: it runs on the libsodium 1.0.22 that the libsodium package ships.</summary>
public sealed class DependencyTests
{
    [Fact]
    public void TheProcessMapsTheLibsodiumOfThePackageNotTheSystemOne()
    {
        Primitives.RandomBytes(new byte[1]); // makes sure libsodium is loaded
        List<string> mapped = File.ReadAllLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6 && Path.GetFileName(fields[5].Trim()).StartsWith("libsodium", StringComparison.Ordinal))
            .Select(fields => fields[5].Trim())
            .Distinct()
            .ToList();
        Assert.Single(mapped);
        Assert.StartsWith(AppContext.BaseDirectory, mapped[0]);
    }
}
