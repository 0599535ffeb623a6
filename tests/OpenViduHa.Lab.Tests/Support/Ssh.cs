using System.Text;
using OpenViduHa.Lab;
using Renci.SshNet;

namespace OpenViduHa.Lab.Tests.Support;

/// <summary>What one command run over SSH returned.</summary>
public sealed record SshResult(int ExitCode, string Output, string Error);

/// <summary>SSH.NET as the product uses it: the node's host key pinned, never trusted blindly.</summary>
public static class Ssh
{
    public static AuthenticationMethod Key(string user, LabKey key) =>
        new PrivateKeyAuthenticationMethod(user, new PrivateKeyFile(new MemoryStream(Encoding.UTF8.GetBytes(key.PrivateKey)), key.Passphrase));

    public static AuthenticationMethod Password(string user, string password) => new PasswordAuthenticationMethod(user, password);

    /// <summary>Connects, accepting only the host key whose fingerprint is <paramref name="pinnedFingerprint"/> (the node's by default).</summary>
    public static Task<SshClient> ConnectAsync(LabNode node, AuthenticationMethod auth, string? pinnedFingerprint = null) =>
        OpenAsync(node, pinnedFingerprint ?? node.HostKeyFingerprint, info => new SshClient(info), auth);

    /// <summary>An SFTP session (the sftp subsystem), the node's host key pinned.</summary>
    public static Task<SftpClient> ConnectSftpAsync(LabNode node, AuthenticationMethod auth) =>
        OpenAsync(node, node.HostKeyFingerprint, info => new SftpClient(info), auth);

    private static async Task<T> OpenAsync<T>(LabNode node, string pinned, Func<ConnectionInfo, T> create, AuthenticationMethod auth)
        where T : BaseClient
    {
        var client = create(new ConnectionInfo(node.Address, node.Port, auth.Username, auth) { Timeout = TimeSpan.FromSeconds(20) });
        client.HostKeyReceived += (_, e) => e.CanTrust = "SHA256:" + e.FingerPrintSHA256 == pinned;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.ConnectAsync(timeout.Token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public static async Task<SshResult> RootAsync(LabNode node, LabKeys keys, string command)
    {
        using var client = await ConnectAsync(node, Key(LabUsers.Root, keys.Ed25519));
        return await client.RunAsync(command);
    }

    public static async Task<SshResult> RunAsync(this SshClient client, string command, string? input = null)
    {
        using var cmd = client.CreateCommand(command);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        if (input is null)
        {
            await cmd.ExecuteAsync(timeout.Token);
        }
        else
        {
            var run = cmd.ExecuteAsync(timeout.Token);
            using (var stdin = cmd.CreateInputStream())
            {
                var bytes = Encoding.UTF8.GetBytes(input);
                await stdin.WriteAsync(bytes, timeout.Token);
            }
            await run;
        }
        return new SshResult(cmd.ExitStatus ?? -1, cmd.Result, cmd.Error);
    }
}
