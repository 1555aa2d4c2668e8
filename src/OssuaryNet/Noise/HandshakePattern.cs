using System.Text;

namespace OssuaryNet.Noise;

/// <summary>
/// A Noise handshake pattern (spec section 7): the pre-messages and the message token sequences, parsed from
/// and printed back to a name such as "XX", "IK" or "XXpsk0+psk3".
/// </summary>
internal sealed class HandshakePattern
{
    private HandshakePattern(string name, NoiseToken[] initiatorPreMessage, NoiseToken[] responderPreMessage, NoiseToken[][] messages)
    {
        Name = name;
        InitiatorPreMessage = initiatorPreMessage;
        ResponderPreMessage = responderPreMessage;
        Messages = messages;
        HasPsk = messages.Any(m => m.Contains(NoiseToken.Psk));
        HasKem = messages.Any(m => m.Contains(NoiseToken.E1));
        PskCount = messages.Sum(m => m.Count(t => t == NoiseToken.Psk));
        InitiatorHasStatic = initiatorPreMessage.Contains(NoiseToken.S) || Sent(even: true, NoiseToken.S);
        ResponderHasStatic = responderPreMessage.Contains(NoiseToken.S) || Sent(even: false, NoiseToken.S);
    }

    /// <summary>The pattern's name as it appears in a protocol name.</summary>
    public string Name { get; }

    /// <summary>Keys the responder knows of the initiator before the handshake ("-> s").</summary>
    public NoiseToken[] InitiatorPreMessage { get; }

    /// <summary>Keys the initiator knows of the responder before the handshake ("&lt;- s").</summary>
    public NoiseToken[] ResponderPreMessage { get; }

    /// <summary>Message i is sent by the initiator when i is even, by the responder when odd.</summary>
    public NoiseToken[][] Messages { get; }

    /// <summary>True when the pattern has psk tokens, which also makes "e" call MixKey (spec section 9.2).</summary>
    public bool HasPsk { get; }

    /// <summary>True for Noise HFS patterns (e1 and ekem1 tokens): the protocol name then names a KEM beside the DH.</summary>
    public bool HasKem { get; }

    /// <summary>Whether the initiator has a static key in this pattern.</summary>
    public bool InitiatorHasStatic { get; }

    /// <summary>Whether the responder has a static key in this pattern.</summary>
    public bool ResponderHasStatic { get; }

    /// <summary>Number of psk tokens, i.e. how many pre-shared keys the handshake takes.</summary>
    public int PskCount { get; }

    /// <summary>The interactive fundamental patterns of spec section 7.4, before psk modifiers.</summary>
    private static readonly Dictionary<string, (string Pre, string[] Messages)> Fundamentals = new()
    {
        ["NN"] = ("", ["e", "e, ee"]),
        ["NK"] = ("<- s", ["e, es", "e, ee"]),
        ["NX"] = ("", ["e", "e, ee, s, es"]),
        ["KN"] = ("-> s", ["e", "e, ee, se"]),
        ["KK"] = ("-> s; <- s", ["e, es, ss", "e, ee, se"]),
        ["KX"] = ("-> s", ["e", "e, ee, se, s, es"]),
        ["XN"] = ("", ["e", "e, ee", "s, se"]),
        ["XK"] = ("<- s", ["e, es", "e, ee", "s, se"]),
        ["XX"] = ("", ["e", "e, ee, s, es", "s, se"]),
        ["IN"] = ("", ["e, s", "e, ee, se"]),
        ["IK"] = ("<- s", ["e, es, s, ss", "e, ee, se"]),
        ["IX"] = ("", ["e, s", "e, ee, se, s, es"]),
        // Noise HFS (hybrid forward secrecy, revision 1): a KEM key beside the first ephemeral key, a KEM ciphertext
        // mixed in after the first "ee".
        ["XXhfs"] = ("", ["e, e1", "e, ee, ekem1, s, es", "s, se"]),
        ["IKhfs"] = ("<- s", ["e, es, e1, s, ss", "e, ee, ekem1, se"]),
    };

    /// <summary>Parses a pattern name with optional psk modifiers ("psk0" prepends to message 0, "pskN" appends to message N-1).</summary>
    public static HandshakePattern Parse(string name)
    {
        int split = name.IndexOf("psk", StringComparison.Ordinal);
        string baseName = split < 0 ? name : name[..split];
        if (!Fundamentals.TryGetValue(baseName, out var definition))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, $"Unsupported Noise handshake pattern '{name}'.");
        }
        List<NoiseToken>[] messages = definition.Messages.Select(m => ParseTokens(m).ToList()).ToArray();
        if (split >= 0)
        {
            foreach (string modifier in name[split..].Split('+'))
            {
                if (!modifier.StartsWith("psk", StringComparison.Ordinal)
                    || !int.TryParse(modifier.AsSpan(3), System.Globalization.NumberStyles.None, null, out int position)
                    || position > messages.Length)
                {
                    throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, $"Invalid pattern modifier '{modifier}' in '{name}'.");
                }
                if (position == 0)
                {
                    messages[0].Insert(0, NoiseToken.Psk);
                }
                else
                {
                    messages[position - 1].Add(NoiseToken.Psk);
                }
            }
        }
        NoiseToken[] initiatorPre = [];
        NoiseToken[] responderPre = [];
        foreach (string pre in definition.Pre.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            NoiseToken[] tokens = ParseTokens(pre[3..]);
            if (pre.StartsWith("->", StringComparison.Ordinal))
            {
                initiatorPre = tokens;
            }
            else
            {
                responderPre = tokens;
            }
        }
        return new HandshakePattern(name, initiatorPre, responderPre, messages.Select(m => m.ToArray()).ToArray());
    }

    /// <summary>The pattern in the spec's notation, one message per line.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        for (int i = 0; i < Messages.Length; i++)
        {
            text.Append(i % 2 == 0 ? "-> " : "<- ");
            text.AppendJoin(", ", Messages[i].Select(t => t.ToString().ToLowerInvariant()));
            text.Append('\n');
        }
        return text.ToString();
    }

    public override string ToString() => Name;

    private bool Sent(bool even, NoiseToken token)
    {
        for (int i = even ? 0 : 1; i < Messages.Length; i += 2)
        {
            if (Messages[i].Contains(token))
            {
                return true;
            }
        }
        return false;
    }

    private static NoiseToken[] ParseTokens(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t switch
            {
                "e" => NoiseToken.E,
                "s" => NoiseToken.S,
                "ee" => NoiseToken.EE,
                "es" => NoiseToken.ES,
                "se" => NoiseToken.SE,
                "ss" => NoiseToken.SS,
                "e1" => NoiseToken.E1,
                "ekem1" => NoiseToken.Ekem1,
                _ => throw new InvalidOperationException($"Unknown token '{t}' in the pattern table."),
            })
            .ToArray();
}
