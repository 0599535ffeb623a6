using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

public sealed class SmokeTests(TwoNodeLab fixture) : IClassFixture<TwoNodeLab>
{
    [Fact]
    public async Task Root_Ed25519_Runs()
    {
        var result = await Ssh.RootAsync(fixture.Lab.Nodes[0], fixture.Lab.Keys, "id; hostname; echo PATH=$PATH; echo PY=$PYENV_ROOT");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("uid=0", result.Output);
        Console.WriteLine(result.Output + result.Error + fixture.Lab.StartupTime);
    }
}
