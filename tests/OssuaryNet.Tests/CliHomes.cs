namespace OssuaryNet.Tests;

/// <summary>
/// Two fresh home directories for tests that run the ossuary tool as separate processes (a server's and a client's,
/// each with its own identity and trust files), deleted afterwards.
/// </summary>
public abstract class CliHomes : IDisposable
{
    protected string Home { get; } = Directory.CreateTempSubdirectory("ossuary-home-").FullName;

    protected string OtherHome { get; } = Directory.CreateTempSubdirectory("ossuary-home-").FullName;

    public void Dispose()
    {
        Directory.Delete(Home, recursive: true);
        Directory.Delete(OtherHome, recursive: true);
        GC.SuppressFinalize(this);
    }
}
