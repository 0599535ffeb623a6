using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Users;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Web.Auth;

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

    /// <summary>A clock the test moves.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static UserService Users(PanelFactory factory, TimeProvider clock) => new(
        factory.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>(), factory.Services.GetRequiredService<AuditLog>(), clock);

    /// <summary>Wrong passwords from one address cannot lock the administrator out: the right one from another address works at once.</summary>
    [Fact]
    public async Task SignIn_ManyFailuresFromOneAddress_RightPasswordFromAnotherWorksAtOnce()
    {
        using var factory = new PanelFactory();
        // A clock that stands still: on a loaded machine twenty password checks can outlast the first waits (CI on f9c1ff3).
        var users = Users(factory, new ManualClock(DateTimeOffset.UtcNow));

        for (var i = 0; i < 20; i++) await users.SignInAsync(PanelFactory.AdminUser, "wrong", "192.0.2.66");

        Assert.Equal(SignInOutcome.Succeeded, (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, "192.0.2.10")).Outcome);
        Assert.Equal(SignInOutcome.Throttled, (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, "192.0.2.66")).Outcome);
    }

    /// <summary>Three failures are free; then each one doubles the wait of that name from that address, and a success clears it.</summary>
    [Fact]
    public async Task SignIn_FailuresFromOneAddress_WaitGrows_ThenTheRightPasswordPasses()
    {
        using var factory = new PanelFactory();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var users = Users(factory, clock);
        const string From = "198.51.100.7";

        for (var i = 0; i < UserService.FreeFailures; i++)
            Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, "wrong", From)).Outcome);
        var throttled = await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, From);
        Assert.Equal((SignInOutcome.Throttled, TimeSpan.FromSeconds(1)), (throttled.Outcome, throttled.RetryAfter));

        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, "wrong", From)).Outcome);
        Assert.Equal(TimeSpan.FromSeconds(2), (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, From)).RetryAfter);

        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Equal(SignInOutcome.Succeeded, (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, From)).Outcome);
        Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, "wrong", From)).Outcome); // counting starts again
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), UserService.MaxDelay, UserService.MaxDelay],
            new[] { 0, 1, 2, 3, 5, 12, 1000 }.Select(UserService.DelayAfter));
    }

    /// <summary>An unknown user and a wrong password: the same answer, counted and throttled alike.</summary>
    [Fact]
    public async Task SignIn_UnknownUserAndWrongPassword_AnsweredAlike()
    {
        using var factory = new PanelFactory();
        var users = factory.Services.GetRequiredService<UserService>();

        var outcomes = new List<SignInOutcome>();
        foreach (var name in new[] { PanelFactory.AdminUser, "nobody" })
        {
            for (var i = 0; i <= UserService.FreeFailures; i++) outcomes.Add((await users.SignInAsync(name, "wrong", "203.0.113.9")).Outcome);
        }

        Assert.Equal([SignInOutcome.Failed, SignInOutcome.Failed, SignInOutcome.Failed, SignInOutcome.Throttled,
            SignInOutcome.Failed, SignInOutcome.Failed, SignInOutcome.Failed, SignInOutcome.Throttled], outcomes);
    }

    /// <summary>A user name of any length, with line breaks: the audit log and the panel's log get 64 clean characters.</summary>
    [Fact]
    public async Task SignIn_HugeUserNameWithControlCharacters_LoggedCutAndClean()
    {
        using var factory = new PanelFactory();
        var users = factory.Services.GetRequiredService<UserService>();
        var name = "evil\n[12:00:00 INF] Audit: admin signin" + new string('x', 10_000);

        await users.SignInAsync(name, "wrong", "203.0.113.10");

        var entry = (await factory.Services.GetRequiredService<AuditLog>().RecentAsync(5)).First(e => e.Action == "signin.failed");
        Assert.Equal(UserService.MaxLoggedNameLength + 1, entry.Actor.Length);
        Assert.StartsWith("evil[12:00:00 INF] Audit: admin signin", entry.Actor, StringComparison.Ordinal);
        Assert.DoesNotContain(entry.Actor, char.IsControl);
    }

    /// <summary>ASP.NET Core never disposes the global limiter; the panel does when it stops, so its timer does not outlive it.</summary>
    [Fact]
    public async Task Stop_TheSignInLimiterIsDisposed()
    {
        // Arrange: a started panel whose limiter works.
        var factory = new PanelFactory();
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/login")).StatusCode);
        var limiter = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>>().Value.GlobalLimiter!;
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        using (var lease = limiter.AttemptAcquire(context)) Assert.True(lease.IsAcquired);

        // Act
        await factory.DisposeAsync();

        // Assert
        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire(context));
    }

    /// <summary>The rate limiter answers the eleventh sign-in post of a minute from one address before any password is checked.</summary>
    [Fact]
    public async Task LoginPost_ElevenInAMinute_429WithRetryAfter()
    {
        using var factory = new PanelFactory();
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= SignInRateLimit.PerMinute; i++)
            statuses.Add((await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.UserName"] = "admin", ["Input.Password"] = "x" }))).StatusCode);
        var last = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>()));

        Assert.All(statuses.Take(SignInRateLimit.PerMinute), s => Assert.NotEqual(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.NotNull(last.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/login")).StatusCode); // the page itself is not limited
    }
}
