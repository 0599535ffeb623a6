namespace OpenViduHa.Core.Nodes;

/// <summary>The secret half of a node's SSH access. Encrypted at rest; never logged (ToString is redacted).</summary>
public sealed record SshCredentials(string? PrivateKey, string? PrivateKeyPassphrase, string? Password, string? SudoPassword)
{
    public bool UsesKey => !string.IsNullOrEmpty(PrivateKey);
    public override string ToString() => UsesKey ? "SshCredentials { key: ***redacted*** }" : "SshCredentials { password: ***redacted*** }";
}

/// <summary>A node's SSH endpoint and credentials as validated.</summary>
public sealed record SshAccess(string Host, int Port, string Username, SshCredentials Credentials, string? HostKeyFingerprint)
{
    public override string ToString() => $"{Username}@{Host}:{Port}";
}
