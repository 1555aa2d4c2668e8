namespace OssuaryNet.Protocol;

/// <summary>A set of the handshake extensions this implementation knows: which were present, or which a message allows.</summary>
[Flags]
internal enum ExtensionSet
{
    None = 0,
    EarlyData = 1,
    MaxRecordPayload = 2,
    ApplicationProtocols = 4,
    SelectedApplicationProtocol = 8,
}
