namespace OssuaryNet.Phases;

/// <summary>The connection failed for good; every later call reports <see cref="Error"/>.</summary>
internal sealed class FailedPhase(OssuaryException error, EstablishedPhase? wasEstablished) : ConnectionPhase
{
    public OssuaryException Error { get; } = error;

    /// <summary>The transport it failed from, if any: its keys are wiped at dispose, and its statistics stay readable.</summary>
    public EstablishedPhase? WasEstablished { get; } = wasEstablished;
}
