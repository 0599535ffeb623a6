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

    private static readonly Lazy<Task<string>> AxeSource = new(() => File.ReadAllTextAsync(Script));

    public sealed record Violation(string Id, string Impact, string Help, IReadOnlyList<string> Targets, string FirstFailure = "")
    {
        public override string ToString() =>
            $"{Id} ({Impact}): {Help} [{string.Join(", ", Targets.Take(6))}{(Targets.Count > 6 ? ", …" : "")}] {FirstFailure.ReplaceLineEndings(" ")}";
    }

    public static async Task<IReadOnlyList<Violation>> RunAsync(IPage page)
    {
        if (!File.Exists(Script)) throw new InvalidOperationException($"{Script} is missing: run 'npm ci' in tests/node (test.sh does).");
        // Evaluated through the browser's debugging protocol, not added as a script element: the panel's content security
        // policy refuses inline scripts, and the tests keep it on.
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'")) await page.EvaluateAsync(await AxeSource.Value);
        // Colours are measured as they end, not halfway through a fade: wait until the page's finite animations are over (a
        // loading bar's endless one does not count). Notices (snackbars) are left out: they fade in, stay and fade out over
        // seconds, one after another, in the palette's filled colours that the pages' own alerts and chips carry too.
        try
        {
            await page.WaitForFunctionAsync(
                """
                () => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity
                  || a.effect?.target?.closest?.('#mud-snackbar-container'))
                """,
                null, new() { Timeout = 10_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            var moving = await page.EvaluateAsync<string>(
                "() => JSON.stringify(document.getAnimations().filter(a => a.playState === 'running').map(a => (a.animationName || a.transitionProperty) + ' on ' + (a.effect?.target?.className || '')))");
            throw new TimeoutException($"The page did not settle within 10 s for axe-core: {moving}");
        }
        var json = await page.EvaluateAsync<JsonElement>(
            """
            async () => {
              const result = await axe.run({ exclude: [['#mud-snackbar-container']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
              return result.violations.map(v => ({ id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map(n => n.target.join(' ')), first: v.nodes[0]?.failureSummary || '' }));
            }
            """);
        return json.EnumerateArray().Select(v => new Violation(v.GetProperty("id").GetString()!, v.GetProperty("impact").GetString()!, v.GetProperty("help").GetString()!,
            v.GetProperty("targets").EnumerateArray().Select(t => t.GetString()!).ToList(), v.GetProperty("first").GetString()!)).ToList();
    }

    /// <summary>Fails with every violation on the page, named by <paramref name="where"/>.</summary>
    public static async Task AssertCleanAsync(IPage page, string where)
    {
        var violations = await RunAsync(page);
        Assert.True(violations.Count == 0, $"axe-core (WCAG 2.1 AA) on {where}: {violations.Count} violations\n{string.Join('\n', violations)}");
    }
}
