namespace OssuaryNet.Datagram;

/// <summary>Names one connection of a <see cref="DatagramEndpoint"/>. Handles are never reused by an endpoint.</summary>
/// <param name="Value">A number unique within the endpoint, from 1; 0 is no connection.</param>
public readonly record struct DatagramHandle(long Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"#{Value}";
}
