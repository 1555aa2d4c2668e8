using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// Tells the static key of the node at <paramref name="address"/> when the network knows it (a directory, a radio id
/// derived from the key), which turns first contact into a one-round-trip IK handshake; null when unknown.
/// </summary>
public delegate OssuaryPublicKey? PublicKeyLookup(ReadOnlySpan<byte> address);
