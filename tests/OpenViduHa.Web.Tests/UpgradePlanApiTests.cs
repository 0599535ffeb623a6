using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

public sealed class UpgradePlanApiTests
{
    [Fact]
    public async Task Plan_From300To340_HopsStepsAndTheLoadBalancerChange_NothingChanged()
    {
        using var factory = new PanelFactory();
        var api = factory.ApiClient();
        var id = (await (await api.PostAsJsonAsync("/api/clusters", Specs.Valid("plan", "3.0.0"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var revision = (await api.GetAsync($"/api/clusters/{id}")).Headers.ETag?.Tag;

        var plan = await api.GetFromJsonAsync<JsonElement>($"/api/clusters/{id}/upgrade-plan?targetVersion=3.4.0");

        Assert.Equal("3.0.0", plan.GetProperty("from").GetString());
        Assert.Equal("3.4.0", plan.GetProperty("to").GetString());
        Assert.Equal(["3.1.0", "3.2.0", "3.3.0", "3.4.0"], plan.GetProperty("hops").EnumerateArray().Select(h => h.GetProperty("to").GetString()));
        Assert.True(plan.GetProperty("loadBalancerChanges").GetBoolean());
        Assert.Contains(plan.GetProperty("steps").EnumerateArray(), s => s.GetString()!.StartsWith("Stop every node", StringComparison.Ordinal));
        Assert.Equal(revision, (await api.GetAsync($"/api/clusters/{id}")).Headers.ETag?.Tag);
        Assert.Equal(0, factory.Count("Jobs"));
    }

    [Theory]
    [InlineData("2.9.0", "is older than the cluster's 3.0.0")]
    [InlineData("3.4.2", "is not on the updater's chain")]
    [InlineData("", "Give targetVersion")]
    public async Task Plan_Impossible_400AtTargetVersion_WithTheReason(string target, string reason)
    {
        using var factory = new PanelFactory();
        var api = factory.ApiClient();
        var id = (await (await api.PostAsJsonAsync("/api/clusters", Specs.Valid("plan", "3.0.0"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        var response = await api.GetAsync($"/api/clusters/{id}/upgrade-plan?targetVersion={Uri.EscapeDataString(target)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("targetVersion")[0].GetString();
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/clusters/999/upgrade-plan?targetVersion=3.4.0")).StatusCode);
    }
}
