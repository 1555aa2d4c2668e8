namespace OssuaryNet;

/// <summary>
/// The shape of a pattern: XX and XXhfs exchange three messages, IK and IKhfs two, in the same order with the same
/// payloads; the hybrid variants only add KEM tokens. Code that follows the message flow asks for the family.
/// </summary>
internal static class HandshakePatternFamily
{
    /// <summary>XX or XXhfs: first contact, three messages.</summary>
    public static bool IsXXFamily(this OssuaryHandshakePattern pattern) => pattern is OssuaryHandshakePattern.XX or OssuaryHandshakePattern.XXhfs;

    /// <summary>XXhfs or IKhfs: post-quantum hybrid forward secrecy.</summary>
    public static bool IsHybrid(this OssuaryHandshakePattern pattern) => pattern is OssuaryHandshakePattern.XXhfs or OssuaryHandshakePattern.IKhfs;

    /// <summary>The classical pattern of a family (XX for XXhfs, IK for IKhfs).</summary>
    public static OssuaryHandshakePattern Classical(this OssuaryHandshakePattern pattern) =>
        pattern.IsXXFamily() ? OssuaryHandshakePattern.XX : OssuaryHandshakePattern.IK;

    /// <summary>The pattern of <paramref name="family"/>'s shape, hybrid or classical.</summary>
    public static OssuaryHandshakePattern WithHybrid(this OssuaryHandshakePattern family, bool hybrid) =>
        family.IsXXFamily()
            ? hybrid ? OssuaryHandshakePattern.XXhfs : OssuaryHandshakePattern.XX
            : hybrid ? OssuaryHandshakePattern.IKhfs : OssuaryHandshakePattern.IK;
}
