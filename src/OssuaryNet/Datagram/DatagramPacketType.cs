namespace OssuaryNet.Datagram;

/// <summary>The first byte of every datagram-mode packet.</summary>
internal enum DatagramPacketType : byte
{
    Initiation = 0x01,
    Response = 0x02,
    Finish = 0x03,
    CookieReply = 0x04,
    Data = 0x05,
}
