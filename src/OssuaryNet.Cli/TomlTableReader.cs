using System.Globalization;
using OssuaryNet.Protocol;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace OssuaryNet.Cli;

/// <summary>
/// Reads the keys of one TOML table with their types checked, adding one <see cref="ConfigMistake"/> per wrong key
/// (named with its full dotted path and its line) instead of stopping at the first. A getter that finds a mistake
/// returns null, so that the caller goes on to the next key.
/// </summary>
internal sealed class TomlTableReader
{
    private readonly TomlTable _table;
    private readonly TomlPropertiesMetadata? _metadata;
    private readonly TomlMetadataStore _store;
    private readonly string _prefix;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public TomlTableReader(TomlTable table, TomlMetadataStore store, string prefix, int line, string file, List<ConfigMistake> mistakes, Dictionary<string, int> lines)
    {
        _table = table;
        _store = store;
        _metadata = store.TryGetProperties(table, out TomlPropertiesMetadata? metadata) ? metadata : null;
        _prefix = prefix;
        Line = line;
        File = file;
        Mistakes = mistakes;
        Lines = lines;
        foreach (string key in table.Keys)
        {
            lines[KeyPath(key)] = LineOf(key);
        }
    }

    /// <summary>The line the table starts on (its header), where a missing key is reported.</summary>
    public int Line { get; }

    public string File { get; }

    public List<ConfigMistake> Mistakes { get; }

    public Dictionary<string, int> Lines { get; }

    public IEnumerable<string> Keys => _table.Keys;

    public bool Has(string key) => _table.ContainsKey(key);

    /// <summary>The dotted path of <paramref name="key"/> in this table, as mistakes name it.</summary>
    public string KeyPath(string key) => _prefix.Length == 0 ? key : $"{_prefix}.{key}";

    /// <summary>The 1-based line <paramref name="key"/> is written on (the table's own line if it is not there).</summary>
    public int LineOf(string key) =>
        _metadata is not null && _metadata.TryGetProperty(key, out TomlPropertyMetadata? property) && property is not null
            ? property.Span.Start.Line + 1
            : Line;

    public void Mistake(string key, string problem) => Mistakes.Add(new ConfigMistake(File, LineOf(key), KeyPath(key), problem));

    /// <summary>A mistake about the table itself (a missing key, a conflict between keys), on its header line.</summary>
    public void TableMistake(string problem) => Mistakes.Add(new ConfigMistake(File, Line, _prefix.Length == 0 ? null : _prefix, problem));

    public string? String(string key, bool required = false) => Get(key, required, "text in quotes", value => value as string);

    public bool? Bool(string key) => Get(key, false, "true or false", value => value is bool b ? b : (bool?)null);

    public long? Integer(string key) => Get(key, false, "a whole number", value => value is long n ? n : (long?)null);

    /// <summary>A whole or decimal number.</summary>
    public double? Number(string key) => Get(key, false, "a number", value => value switch
    {
        long n => n,
        double d => d,
        _ => (double?)null,
    });

    /// <summary>The sub-table <paramref name="key"/>, or null (a mistake if it is there but is not a table).</summary>
    public TomlTableReader? Table(string key)
    {
        if (!_table.TryGetValue(key, out object? value))
        {
            return null;
        }
        _read.Add(key);
        if (value is TomlTable table)
        {
            return new TomlTableReader(table, _store, KeyPath(key), LineOf(key), File, Mistakes, Lines);
        }
        Mistake(key, $"must be a table ([{KeyPath(key)}]), not {Describe(value)}");
        return null;
    }

    /// <summary>One mistake for each key of the table that no getter asked for.</summary>
    public void RejectUnknown(string context, IReadOnlyCollection<string> known)
    {
        foreach (string key in _table.Keys.Where(k => !_read.Contains(k)))
        {
            Mistake(key, $"unknown key {context}(expected {string.Join(", ", known)})");
        }
    }

    /// <summary>Marks <paramref name="key"/> as read without reading it (a key that is checked elsewhere).</summary>
    public void Accept(string key) => _read.Add(key);

    private T? Get<T>(string key, bool required, string expected, Func<object, T?> convert)
    {
        if (!_table.TryGetValue(key, out object? value))
        {
            if (required)
            {
                TableMistake($"'{key}' is missing");
            }
            return default;
        }
        _read.Add(key);
        T? converted = value is null ? default : convert(value);
        if (converted is null)
        {
            Mistake(key, $"must be {expected}, not {Describe(value)}");
        }
        return converted;
    }

    private static string Describe(object? value) => value switch
    {
        string s => $"the text \"{PrintableText.Escape(s)}\"",
        bool b => b ? "true" : "false",
        long n => $"the number {n.ToString(CultureInfo.InvariantCulture)}",
        double d => $"the number {d.ToString(CultureInfo.InvariantCulture)}",
        TomlTable => "a table",
        TomlArray or TomlTableArray => "a list",
        null => "nothing",
        _ => $"a {value.GetType().Name.Replace("Toml", "", StringComparison.Ordinal).ToLowerInvariant()}",
    };
}
