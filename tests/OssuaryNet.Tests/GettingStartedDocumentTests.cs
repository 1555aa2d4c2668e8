using System.Text.RegularExpressions;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The getting-started pages show only code that is built and run: every C#, C and TOML block on them is an excerpt,
/// line for line, of the file its text names just before it (an example that the solution compiles, a C example the
/// interop tests build, the configuration `run --check` reads), so a page cannot drift from the code.
/// </summary>
public sealed partial class GettingStartedDocumentTests
{
    private static readonly string[] CheckedLanguages = ["csharp", "c", "toml"];

    public static TheoryData<string> Pages() =>
        new(Directory.GetFiles(Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "docs", "getting-started"), "*.md").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCodeBlockIsAnExcerptOfTheFileItNames(string page)
    {
        string root = ProtocolDocumentTests.RepositoryRoot();
        string[] lines = File.ReadAllLines(Path.Combine(root, "docs", "getting-started", page));
        int checkedBlocks = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            Match fence = Fence().Match(lines[i]);
            if (!fence.Success)
            {
                continue;
            }
            int end = Array.FindIndex(lines, i + 1, line => line.TrimStart().StartsWith("```", StringComparison.Ordinal));
            Assert.True(end > i, $"{page}:{i + 1}: a code block without its end");
            if (CheckedLanguages.Contains(fence.Groups[1].Value))
            {
                string source = NamedSourceBefore(lines, i, root) ?? throw new Xunit.Sdk.XunitException($"{page}:{i + 1}: no existing file is named (in `backticks`) before this {fence.Groups[1].Value} block");
                string[] excerpt = lines[(i + 1)..end];
                Assert.True(IsExcerpt(excerpt, File.ReadAllLines(Path.Combine(root, source))),
                    $"{page}:{i + 1}: this block is not an excerpt of {source}:\n{string.Join('\n', excerpt)}");
                checkedBlocks++;
            }
            i = end;
        }
        Assert.True(checkedBlocks > 0, $"{page} has no code block to check");
    }

    /// <summary>The last `path` named in the text between the previous code block and this one that is a file of the repository.</summary>
    private static string? NamedSourceBefore(string[] lines, int fence, string root)
    {
        for (int i = fence - 1; i >= 0 && !lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal); i--)
        {
            foreach (Match named in BacktickedPath().Matches(lines[i]).Reverse())
            {
                if (File.Exists(Path.Combine(root, named.Groups[1].Value)))
                {
                    return named.Groups[1].Value;
                }
            }
        }
        return null;
    }

    /// <summary>Whether <paramref name="excerpt"/> appears in <paramref name="source"/> as consecutive lines (trailing spaces aside).</summary>
    private static bool IsExcerpt(string[] excerpt, string[] source)
    {
        string[] wanted = excerpt.Select(line => line.TrimEnd()).ToArray();
        string[] lines = source.Select(line => line.TrimEnd()).ToArray();
        return wanted.Length > 0 && Enumerable.Range(0, lines.Length - wanted.Length + 1).Any(start => lines.AsSpan(start, wanted.Length).SequenceEqual(wanted));
    }

    [GeneratedRegex(@"^\s*```(\w+)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"`([\w./-]+/[\w.-]+)`")]
    private static partial Regex BacktickedPath();
}
