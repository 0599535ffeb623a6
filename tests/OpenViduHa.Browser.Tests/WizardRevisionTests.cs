using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>Someone else saves the cluster while the wizard edits it: the wizard's save changes nothing and says so.</summary>
public sealed class WizardRevisionTests() : OwnPanelTest("revision", "revision-test-password-1", "ovha_browser_revision_0123456789abcdef012345678")
{
    [Fact]
    public async Task EditWizard_ClusterSavedMeanwhileThroughTheApi_SaveRefused_ReloadShowsTheirChange()
    {
        using var api = Api();
        var id = (await (await api.PostAsJsonAsync("api/clusters", Specs.Valid("revision"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await page.GotoAsync($"clusters/{id}/edit");
        var wizard = new ClusterWizardPage(page);
        await wizard.WaitUntilInteractiveAsync();
        await wizard.FillAsync("domainName", "wizard.example.io");

        // Meanwhile a script saves the cluster with the revision it read.
        var read = await api.GetAsync($"api/clusters/{id}");
        var spec = Specs.Valid("revision");
        spec.DomainName = "script.example.io";
        var put = new HttpRequestMessage(HttpMethod.Put, $"api/clusters/{id}") { Content = JsonContent.Create(spec) };
        put.Headers.IfMatch.Add(read.Headers.ETag!);
        Assert.True((await api.SendAsync(put)).IsSuccessStatusCode);

        await wizard.NextAsync();
        await wizard.NextAsync();
        await wizard.NextAsync();
        await wizard.Submit.ClickAsync();

        var alert = page.GetByTestId("changed-meanwhile");
        await Expect(alert).ToContainTextAsync("Someone else changed this cluster while you were editing it.");
        await Expect(alert).ToContainTextAsync("nothing was stored");
        Assert.Matches(@"/clusters/\d+/edit$", page.Url);
        Assert.Empty(await Axe.RunAsync(page));
        var stored = await api.GetFromJsonAsync<JsonElement>($"api/clusters/{id}");
        Assert.Equal("script.example.io", stored.GetProperty("domainName").GetString());

        await page.GetByTestId("changed-meanwhile-reload").ClickAsync();
        await Expect(wizard.Field("domainName")).ToHaveValueAsync("script.example.io");
        await Expect(alert).ToHaveCountAsync(0);
    }
}
