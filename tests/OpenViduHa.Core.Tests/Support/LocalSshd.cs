using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// One <see cref="LocalNode"/> for a test class: a real OpenSSH server (Debian's sshd) on a free port of 127.0.0.1 in a
/// private mount namespace, root with <see cref="OpenViduHa.Tests.Shared.TestKeys.Ed25519"/>, SFTP included, and the
/// login users with passwords and sudo that <see cref="LocalNode"/> describes. For the SSH engine's own tests in the fast suite.
/// </summary>
public sealed class LocalSshd : IAsyncLifetime
{
    private LocalNode? _node;

    private LocalNode Node => _node ?? throw new InvalidOperationException("Not started.");

    public int Port => Node.Port;

    /// <summary>The host key's fingerprint as ssh-keygen prints it.</summary>
    public string HostKeyFingerprint => Node.HostKeyFingerprint;

    /// <summary>Every command line the sshd was sent, in order.</summary>
    public IReadOnlyList<string> Commands => Node.Commands;

    public async Task InitializeAsync() =>
        _node = await LocalNode.StartAsync(new NodeDefinition("master-1", NodeRole.Master, "10.5.0.1", null));

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
    }
}
