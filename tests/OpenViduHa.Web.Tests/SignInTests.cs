using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Users;

using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

public sealed class SignInTests
{
    [Fact]
    public async Task FirstStart_NoUser_PagesRedirectToSetup()
    {
        using var factory = new PanelFactory(bootstrap: false);
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var response = await client.GetAsync("/clusters");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/setup", response.Headers.Location!.ToString());
        var setup = await client.GetStringAsync("/setup");
        Assert.Contains("Create the administrator", setup, StringComparison.Ordinal);
        Assert.Contains("__RequestVerificationToken", setup, StringComparison.Ordinal); // antiforgery on the form
    }

    [Fact]
    public async Task Bootstrapped_PagesRedirectToLoginNotSetup()
    {
        using var factory = new PanelFactory();
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var response = await client.GetAsync("/clusters");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/login", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("already exists", await client.GetStringAsync("/setup") is var s && s.Contains("Setup is done", StringComparison.Ordinal) ? "already exists" : s, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupPost_WithoutAntiforgeryToken_IsRejected()
    {
        using var factory = new PanelFactory(bootstrap: false);
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var response = await client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "setup", ["Input.UserName"] = "mallory", ["Input.Password"] = "a-long-enough-password", ["Input.Confirm"] = "a-long-enough-password",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(await factory.Services.GetRequiredService<UserService>().AnyUserAsync());
    }

    [Fact]
    public async Task Bootstrap_IgnoredOnceAUserExists()
    {
        string dir;
        using (var first = new PanelFactory())
        {
            dir = first.DataDirectory;
            _ = first.Services; // start: creates admin with the first password
        }

        using var second = new PanelFactory(bootstrap: true, dataDirectory: dir) { BootstrapPassword = "another-password-entirely" };
        var users = second.Services.GetRequiredService<UserService>();

        Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, "another-password-entirely", null)).Outcome);
        Assert.Equal(SignInOutcome.Succeeded, (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, null)).Outcome);
        Assert.Equal(1, second.Count("Users"));
    }

    [Fact]
    public async Task SignIn_RepeatedFailures_LockOutEvenTheRightPassword()
    {
        using var factory = new PanelFactory();
        var users = factory.Services.GetRequiredService<UserService>();

        for (var i = 0; i < UserService.MaxFailedSignIns - 1; i++)
            Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, "wrong", "127.0.0.1")).Outcome);
        Assert.Equal(SignInOutcome.LockedOut, (await users.SignInAsync(PanelFactory.AdminUser, "wrong", "127.0.0.1")).Outcome);

        var locked = await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, "127.0.0.1");
        Assert.Equal(SignInOutcome.LockedOut, locked.Outcome);
        Assert.True(locked.LockedUntil > DateTimeOffset.UtcNow.AddMinutes(10));
        Assert.True(factory.Count("AuditLog") >= UserService.MaxFailedSignIns);
    }

    [Fact]
    public async Task Tokens_CreatedThenRevoked_StopWorking()
    {
        using var factory = new PanelFactory();
        var users = factory.Services.GetRequiredService<UserService>();
        var token = await users.CreateTokenAsync(1, "ci");
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token.Token);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/clusters")).StatusCode);
        Assert.True(await users.RevokeTokenAsync(token.Id, "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/clusters")).StatusCode);

        var stored = (await users.ListTokensAsync()).Single(t => t.Id == token.Id);
        Assert.NotNull(stored.RevokedAt);
        Assert.DoesNotContain(token.Token, System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(Path.Combine(factory.DataDirectory, "panel.db"))), StringComparison.Ordinal);
    }
}
