using OpenViduHa.Web.Components.Account;

namespace OpenViduHa.Web.Tests;

public sealed class ReturnUrlTests
{
    [Theory]
    [InlineData("clusters/3", "/clusters/3")]
    [InlineData("/audit", "/audit")]
    [InlineData("///clusters", "/clusters")]
    [InlineData(null, "/clusters")]
    [InlineData("", "/clusters")]
    [InlineData("//evil.example", "/evil.example")]
    [InlineData("/\\evil.example", "/clusters")]
    [InlineData("\\\\evil.example", "/clusters")]
    [InlineData("/\t/evil.example", "/clusters")]
    [InlineData("https://evil.example/", "/clusters")]
    [InlineData("login?returnUrl=x", "/clusters")]
    public void SafeReturnUrl_OnlyLocalPaths(string? input, string expected) => Assert.Equal(expected, Login.SafeReturnUrl(input));
}
