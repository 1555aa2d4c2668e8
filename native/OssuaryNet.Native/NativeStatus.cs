namespace OssuaryNet.Native;

/// <summary>
/// The C status codes (ossuary.h). Non-negative codes say what the call left owing; a negative code -N is
/// <see cref="OssuaryErrorCode"/> N, one to one, plus three boundary errors that only the C interface can have.
/// </summary>
internal static class NativeStatus
{
    public const int Ok = 0;
    public const int NeedMoreInput = 1;
    public const int BufferTooSmall = 2;
    public const int OutputPending = 3;
    public const int Closed = 4;
    public const int HandshakeInProgress = 5;
    // 6 was OSSUARY_FAILED_AFTER_DATA: genuine plaintext is now returned as usual and the next call reports the error.
    public const int NeedsVerification = 7;

    public const int InvalidHandle = -100;
    public const int NullPointer = -101;
    public const int InvalidArgument = -102;

    public static int From(OssuaryStatus status) => status switch
    {
        OssuaryStatus.Done => Ok,
        OssuaryStatus.NeedMoreInput => NeedMoreInput,
        OssuaryStatus.DestinationTooSmall => BufferTooSmall,
        OssuaryStatus.OutputPending => OutputPending,
        OssuaryStatus.Closed => Closed,
        OssuaryStatus.HandshakeInProgress => HandshakeInProgress,
        OssuaryStatus.PeerVerificationRequired => NeedsVerification,
        _ => -(int)OssuaryErrorCode.InternalError,
    };

    public static int From(OssuaryErrorCode code) => -(int)code;
}

/// <summary>A failure detected at the C boundary, carried to the export's catch block with its status.</summary>
internal sealed class BoundaryException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
