using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary><c>GET /api/jobs/{id}/log</c>: the JSON pages, the whole log (or one node's) as a text file, and its refusals.</summary>
public sealed class JobLogApiTests(PanelFactory factory) : IClassFixture<PanelFactory>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly System.Text.RegularExpressions.Regex TextLine = new(
        @"\A *(?<seq>[0-9]+)  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z  \[(?<node>[^\]]+)\]  (?<text>.*)\z");
    private readonly HttpClient _api = factory.ApiClient();

    private async Task<JobSeed> SeedAsync(string name, int lines)
    {
        var created = await _api.PostAsJsonAsync("/api/clusters", Specs.Valid(name: name), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        return await JobSeed.CreateAsync(factory.Services, id, lines);
    }

    [Fact]
    public async Task Log_AsText_IsEveryLineInOrderWithTimeAndNode_AcrossPages()
    {
        // Arrange: more lines than one page of the store (5,000).
        var seed = await SeedAsync("log-text", 12_000);

        // Act
        var response = await _api.GetAsync($"/api/jobs/{seed.JobId}/log?format=text");

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"job-{seed.JobId}-check-credentials.log", response.Content.Headers.ContentDisposition!.FileName);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"# job {seed.JobId} check-credentials, cluster {seed.ClusterId}, running", lines[0], StringComparison.Ordinal);
        Assert.Equal(12_001, lines.Length);
        for (var seq = 1; seq <= 12_000; seq++)
        {
            var match = TextLine.Match(lines[seq]);
            Assert.True(match.Success, lines[seq]);
            Assert.Equal((seq, seed.NodeOf(seq) ?? "panel", JobSeed.TextOf(seq)), (int.Parse(match.Groups["seq"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["node"].Value, match.Groups["text"].Value));
        }
    }

    [Fact]
    public async Task Log_OneNode_HasOnlyItsLines_AsTextAndAsJson()
    {
        // Arrange
        var seed = await SeedAsync("log-node", 1_000);
        var node = seed.Nodes[2];
        var expected = Enumerable.Range(1, 1_000).Where(s => seed.NodeOf(s) == node).ToList();

        // Act
        var text = await _api.GetStringAsync($"/api/jobs/{seed.JobId}/log?format=text&node={node}");
        var json = await _api.GetFromJsonAsync<List<JobLogLineView>>($"/api/jobs/{seed.JobId}/log?node={node}&after=500", Json);
        var panel = await _api.GetFromJsonAsync<List<JobLogLineView>>($"/api/jobs/{seed.JobId}/log?node=panel", Json);

        // Assert
        var seqs = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => int.Parse(l.TrimStart().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, seqs);
        Assert.Equal(expected.Where(s => s > 500), json!.Select(l => l.Seq));
        Assert.All(json!, l => Assert.Equal(node, l.Node));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 100 + 1), panel!.Select(l => l.Seq));
    }

    [Theory]
    [InlineData("")]
    [InlineData("?format=text")]
    public async Task Log_OfUnknownJob_Answers404Problem(string query)
    {
        // Act
        var response = await _api.GetAsync($"/api/jobs/987654/log{query}");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Jobs_OfUnknownCluster_Answers404Problem()
    {
        // Act
        var response = await _api.GetAsync("/api/clusters/987654/jobs");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("format=xml", "format")]
    [InlineData("node=media-99", "node")]
    public async Task Log_WithUnknownFormatOrNode_Answers400AtTheField(string query, string field)
    {
        // Arrange
        var seed = await SeedAsync($"log-bad-{field}", 3);

        // Act
        var response = await _api.GetAsync($"/api/jobs/{seed.JobId}/log?{query}");

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.NotNull(problem!["errors"]![field]);
    }
}
