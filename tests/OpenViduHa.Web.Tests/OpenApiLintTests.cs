using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// The panel's OpenAPI document as other tools read it: Redocly's CLI (from npm, installed by test.sh into tests/node)
/// with its recommended rules finds no error; the bearer scheme is declared and applied; the reference page is served
/// behind sign-in.
/// </summary>
public sealed class OpenApiLintTests(PanelFactory factory) : IClassFixture<PanelFactory>
{
    private readonly HttpClient _api = factory.ApiClient();

    private static string Redocly => Path.Combine(RepoRoot.Path, "tests", "node", "node_modules", ".bin", "redocly");

    [Fact]
    public async Task Document_RedoclyRecommendedLint_NoError()
    {
        // Arrange
        Assert.True(File.Exists(Redocly), $"{Redocly} is missing: run 'npm ci' in tests/node (test.sh does).");
        var document = await _api.GetStringAsync("/openapi/v1.json");
        var file = Path.Combine(Path.GetTempPath(), $"ovha-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, document);

        try
        {
            // Act
            var start = new ProcessStartInfo(Redocly) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "lint", file, "--format=json" }) start.ArgumentList.Add(arg);
            start.Environment["REDOCLY_TELEMETRY"] = "off";
            start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            using var lint = Process.Start(start)!;
            var stdout = lint.StandardOutput.ReadToEndAsync();
            var stderr = lint.StandardError.ReadToEndAsync();
            await lint.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

            // Assert
            var report = JsonNode.Parse(await stdout)!;
            var errors = report["problems"]!.AsArray().Where(p => p!["severity"]!.GetValue<string>() == "error")
                .Select(p => $"{p!["ruleId"]}: {p["message"]} at {p["location"]?[0]?["pointer"]}").ToList();
            Assert.True(errors.Count == 0, $"Redocly found {errors.Count} errors:\n{string.Join('\n', errors)}\n{await stderr}");
            Assert.Equal(0, report["totals"]!["errors"]!.GetValue<int>());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Document_DeclaresBearerScheme_AppliesItEverywhereButHealthz_And401OnEachOperation()
    {
        // Act
        var document = JsonNode.Parse(await _api.GetStringAsync("/openapi/v1.json"))!;

        // Assert
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        Assert.NotNull(document["security"]![0]!["bearer"]);
        var operations = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Method: o.Key, Operation: o.Value!))).ToList();
        Assert.Contains(operations, o => o.Path == "/metrics");
        foreach (var (path, method, operation) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{method} {path} has no summary");
            if (path == "/healthz") Assert.Empty(operation["security"]!.AsArray());
            else Assert.NotNull(operation["responses"]!["401"]);
        }
    }

    /// <summary>The document is API (a token reads it); the reference is a page (a person's sign-in, never a token).</summary>
    [Theory]
    [InlineData("/api-docs/v1", false)]
    [InlineData("/openapi/v1.json", true)]
    public async Task Reference_WithoutSignIn_Refused_ServedToItsKindOfCaller(string path, bool api)
    {
        // Act
        var anonymous = await factory.CreateClient(new() { AllowAutoRedirect = false }).GetAsync(path);
        var withToken = await _api.GetAsync(path);
        var (person, _) = await factory.SignedInClientAsync();
        var signedIn = await person.GetAsync(path);

        // Assert
        Assert.Contains(anonymous.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Redirect, HttpStatusCode.Found });
        Assert.Equal(api ? HttpStatusCode.OK : HttpStatusCode.Redirect, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
    }
}
