using OpenViduHa.Lab;

namespace OpenViduHa.Lab.Tests.Support;

/// <summary>One lab per test class (classes run in parallel, so labs do too: each gets its own id and addresses).</summary>
public abstract class LabFixture : IAsyncLifetime
{
    public Lab Lab { get; private set; } = null!;

    protected abstract LabOptions Options { get; }

    public async Task InitializeAsync() => Lab = await Lab.StartAsync(Options);

    public async Task DisposeAsync() => await Lab.DisposeAsync();
}

public sealed class TwoNodeLab : LabFixture
{
    protected override LabOptions Options => new() { Nodes = 2, InstallerDelay = TimeSpan.FromMilliseconds(100) };
}

public sealed class SixNodeLab : LabFixture
{
    protected override LabOptions Options => new() { Nodes = 6, InstallerDelay = TimeSpan.FromMilliseconds(100) };
}

public sealed class RecordingLab : LabFixture
{
    protected override LabOptions Options => new() { Nodes = 2, InstallerDelay = TimeSpan.FromMilliseconds(100), RecordCommands = true };
}
