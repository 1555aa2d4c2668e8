using System.Buffers.Binary;

namespace OssuaryNet.Adversarial;

/// <summary>What an attacker on the path does to one frame.</summary>
public enum MutationKind
{
    FlipBit,
    Truncate,
    CutBefore,
    Duplicate,
    Drop,
    Reorder,
    Replay,
    SpliceOtherSession,
    SpliceOtherDirection,
    RewriteLength,
    InjectAlert,
    GarbagePrefix,
    InjectEmptyFrame,
}

/// <summary>
/// One attack on one frame of one direction: the <see cref="FrameIndex"/>-th frame that <see cref="FromClient"/>'s
/// side sends is changed as <see cref="Kind"/> says, with <see cref="Parameter"/> choosing the bit, length, code or
/// bytes. Everything else on the wire passes untouched.
/// </summary>
public sealed record Mutation(bool FromClient, int FrameIndex, MutationKind Kind, int Parameter)
{
    public static Mutation Random(Random random) => new(
        random.Next(2) == 0,
        random.Next(random.Next(3) == 0 ? 3 : 9), // handshake frames get extra attention
        (MutationKind)random.Next(Enum.GetValues<MutationKind>().Length),
        random.Next());

    public override string ToString() => $"{(FromClient ? "client" : "server")} frame {FrameIndex}: {Kind} ({Parameter})";
}

/// <summary>
/// The path in one direction: whole frames from the sender go through the mutation, and what comes out is the
/// byte stream the receiver reads, possibly ended early (a cut connection).
/// </summary>
internal sealed class Wire
{
    private readonly Mutation? _mutation;
    private readonly bool _fromClient;
    private readonly IReadOnlyList<byte[]> _foreignFrames;
    private readonly Func<IReadOnlyList<byte[]>> _otherDirectionFrames;
    private readonly List<byte> _partial = [];
    private byte[]? _held;
    private int _index;

    public Wire(bool fromClient, Mutation? mutation, IReadOnlyList<byte[]> foreignFrames, Func<IReadOnlyList<byte[]>> otherDirectionFrames)
    {
        _fromClient = fromClient;
        _mutation = mutation?.FromClient == fromClient ? mutation : null;
        _foreignFrames = foreignFrames;
        _otherDirectionFrames = otherDirectionFrames;
    }

    /// <summary>Every whole frame the sender emitted, in order (for replays and splices).</summary>
    public List<byte[]> SentFrames { get; } = [];

    /// <summary>Everything the sender emitted, unchanged.</summary>
    public List<byte> Sent { get; } = [];

    /// <summary>Bytes the receiver has not read yet.</summary>
    public List<byte> InFlight { get; } = [];

    /// <summary>Everything put on the wire towards the receiver (after the mutation), in order.</summary>
    public List<byte> Delivered { get; } = [];

    /// <summary>The connection was cut: after <see cref="InFlight"/> the receiver sees the end of the stream.</summary>
    public bool Cut { get; private set; }

    /// <summary>Whether the mutation took effect on this path.</summary>
    public bool Mutated { get; private set; }

    /// <summary>Takes bytes the sender emitted (any chunking; frames may be split).</summary>
    public void Accept(ReadOnlySpan<byte> bytes)
    {
        Sent.AddRange(bytes.ToArray());
        _partial.AddRange(bytes.ToArray());
        while (_partial.Count >= 2)
        {
            int length = 2 + (_partial[0] << 8 | _partial[1]);
            if (_partial.Count < length)
            {
                break;
            }
            byte[] frame = [.. _partial.GetRange(0, length)];
            _partial.RemoveRange(0, length);
            SentFrames.Add(frame);
            Forward(frame);
        }
    }

    /// <summary>Releases a frame held back for reordering when nothing follows it.</summary>
    public void Flush()
    {
        if (_held is not null)
        {
            Emit(_held);
            _held = null;
        }
    }

    private void Forward(byte[] frame)
    {
        int index = _index++;
        if (Cut)
        {
            return;
        }
        if (_mutation is null || index != _mutation.FrameIndex)
        {
            Emit(frame);
            Flush();
            return;
        }
        Mutated = true;
        int p = _mutation.Parameter;
        var random = new Random(p);
        switch (_mutation.Kind)
        {
            case MutationKind.FlipBit:
                byte[] flipped = (byte[])frame.Clone();
                int bit = p % (frame.Length * 8);
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                Emit(flipped);
                break;
            case MutationKind.Truncate:
                Emit(frame.AsSpan(0, p % frame.Length));
                Cut = true;
                break;
            case MutationKind.CutBefore:
                Cut = true;
                break;
            case MutationKind.Duplicate:
                Emit(frame);
                Emit(frame);
                break;
            case MutationKind.Drop:
                break;
            case MutationKind.Reorder:
                _held = frame; // goes out after the next frame (or at the end)
                return;
            case MutationKind.Replay:
                Emit(SentFrames[p % SentFrames.Count]);
                Emit(frame);
                break;
            case MutationKind.SpliceOtherSession:
                Emit(_foreignFrames.Count == 0 ? frame : _foreignFrames[p % _foreignFrames.Count]);
                break;
            case MutationKind.SpliceOtherDirection:
                IReadOnlyList<byte[]> other = _otherDirectionFrames();
                Emit(other.Count == 0 ? frame : other[p % other.Count]);
                break;
            case MutationKind.RewriteLength:
                byte[] relength = (byte[])frame.Clone();
                BinaryPrimitives.WriteUInt16BigEndian(relength, (ushort)(p % 3 switch { 0 => 0xFFFF, 1 => random.Next(0, 0x10000), _ => Math.Max(0, frame.Length - 2 + random.Next(-3, 4)) }));
                Emit(relength);
                break;
            case MutationKind.InjectAlert:
                Emit([0, 2, 0x15, (byte)(p % 26)]);
                Emit(frame);
                break;
            case MutationKind.GarbagePrefix:
                byte[] garbage = new byte[1 + p % 40];
                random.NextBytes(garbage);
                Emit(garbage);
                Emit(frame);
                break;
            case MutationKind.InjectEmptyFrame:
                Emit([0, 0]);
                Emit(frame);
                break;
        }
        Flush();
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (Cut)
        {
            return;
        }
        InFlight.AddRange(bytes.ToArray());
        Delivered.AddRange(bytes.ToArray());
    }

    public override string ToString() => $"{(_fromClient ? "client->server" : "server->client")}: {Sent.Count} bytes sent, {Delivered.Count} delivered";
}
