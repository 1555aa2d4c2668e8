namespace OssuaryNet.Phases;

/// <summary>A server waiting for the client's first frame: the clear header that picks pattern and suite, then message 1.</summary>
internal sealed class AwaitingFirstMessagePhase : ConnectionPhase
{
    public static AwaitingFirstMessagePhase Instance { get; } = new();

    private AwaitingFirstMessagePhase()
    {
    }
}
