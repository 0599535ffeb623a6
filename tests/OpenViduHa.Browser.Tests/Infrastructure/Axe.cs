using System.Text.Json;
using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// axe-core (from npm, tests/node) run in the page: the WCAG 2.1 A and AA rules, what a real checker finds, not a list
/// of our own. A violation comes back with its rule, impact and the elements it found.
/// </summary>
public static class Axe
{
    private static readonly string Script = Path.Combine(RepoRoot.Path, "tests", "node", "node_modules", "axe-core", "axe.min.js");

    public sealed record Violation(string Id, string Impact, string Help, IReadOnlyList<string> Targets)
    {
        public override string ToString() => $"{Id} ({Impact}): {Help} [{string.Join(", ", Targets.Take(6))}{(Targets.Count > 6 ? ", …" : "")}]";
    }

    public static async Task<IReadOnlyList<Violation>> RunAsync(IPage page)
    {
        if (!File.Exists(Script)) throw new InvalidOperationException($"{Script} is missing: run 'npm ci' in tests/node (test.sh does).");
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'")) await page.AddScriptTagAsync(new() { Path = Script });
        var json = await page.EvaluateAsync<JsonElement>(
            """
            async () => {
              const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
              return result.violations.map(v => ({ id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map(n => n.target.join(' ')) }));
            }
            """);
        return json.EnumerateArray().Select(v => new Violation(v.GetProperty("id").GetString()!, v.GetProperty("impact").GetString()!, v.GetProperty("help").GetString()!,
            v.GetProperty("targets").EnumerateArray().Select(t => t.GetString()!).ToList())).ToList();
    }

    /// <summary>Fails with every violation on the page, named by <paramref name="where"/>.</summary>
    public static async Task AssertCleanAsync(IPage page, string where)
    {
        var violations = await RunAsync(page);
        Assert.True(violations.Count == 0, $"axe-core (WCAG 2.1 AA) on {where}: {violations.Count} violations\n{string.Join('\n', violations)}");
    }
}
