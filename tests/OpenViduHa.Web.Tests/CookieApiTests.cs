using System.Net;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

public sealed class CookieApiTests
{
    [Fact]
    public async Task SignInCookie_ReadsTheApi_ButCannotWriteThroughIt()
    {
        using var factory = new PanelFactory();
        // A real sign-in through the form, antiforgery token and all.
        var (browser, _) = await factory.SignedInClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/clusters")).StatusCode);
        var write = await browser.PostAsync("/api/jobs/1/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("API token", await write.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.DeleteAsync("/api/clusters/1")).StatusCode);

        // The same write with a bearer token gets through to the endpoint (404: there is no job 1).
        Assert.Equal(HttpStatusCode.NotFound, (await factory.ApiClient().PostAsync("/api/jobs/1/cancel", null)).StatusCode);
    }
}
