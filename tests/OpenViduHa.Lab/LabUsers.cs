using System.Security.Cryptography;

namespace OpenViduHa.Lab;

/// <summary>
/// The users of every lab node. They live in the node's own <c>/etc/passwd</c>, <c>/etc/shadow</c>, <c>/etc/group</c> and
/// sudoers (the machine's are never touched), with homes of their own, so the machine's shell start-up files never run.
/// </summary>
public static class LabUsers
{
    /// <summary>Keys only (<c>PermitRootLogin prohibit-password</c>); no password.</summary>
    public const string Root = "root";

    /// <summary>Password or key; in group <c>sudo</c>, so sudo asks for <see cref="Lab.DeployPassword"/>.</summary>
    public const string Deploy = "deploy";

    /// <summary>Password or key; sudo without a password (<c>NOPASSWD: ALL</c> in <c>/etc/sudoers.d</c>).</summary>
    public const string DeployNoPasswd = "deploy-nopasswd";

    internal const int DeployUid = 2001;
    internal const int DeployNoPasswdUid = 2002;

    internal static readonly IReadOnlyList<(string Name, int Uid)> NonRoot = [(Deploy, DeployUid), (DeployNoPasswd, DeployNoPasswdUid)];

    private static readonly SemaphoreSlim _gate = new(1, 1);
    private static (string Password, string Hash)? _password;

    /// <summary>One random password per test process (both non-root users have it), hashed once with openssl.</summary>
    internal static async Task<(string Password, string Hash)> PasswordAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_password is { } made) return made;
            var password = "Lab-" + RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 20);
            var hash = (await Tools.CheckedAsync(Tools.Openssl, ["passwd", "-6", "-stdin"], password + "\n", ct)).Trim();
            _password = (password, hash);
            return (password, hash);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The node's passwd, group and shadow: the machine's accounts (sshd's privilege separation user among them) plus ours.</summary>
    internal static (string Passwd, string Group, string Shadow, int ShadowGid) Files(string hash)
    {
        var ours = NonRoot.Select(u => u.Name).ToHashSet();
        bool Ours(string line) => ours.Contains(line.Split(':')[0]);

        var passwd = File.ReadAllLines("/etc/passwd").Where(l => l.Length > 0 && !Ours(l)).ToList();
        passwd.Add($"{Deploy}:x:{DeployUid}:{DeployUid}:OpenViduHa.Lab deploy (sudo asks for the password):/home/{Deploy}:/bin/bash");
        passwd.Add($"{DeployNoPasswd}:x:{DeployNoPasswdUid}:{DeployNoPasswdUid}:OpenViduHa.Lab deploy (sudo without password):/home/{DeployNoPasswd}:/bin/bash");

        var group = File.ReadAllLines("/etc/group").Where(l => l.Length > 0 && !Ours(l)).ToList();
        var members = string.Join(',', NonRoot.Select(u => u.Name));
        var sudo = group.FindIndex(l => l.StartsWith("sudo:", StringComparison.Ordinal));
        if (sudo < 0)
            group.Add("sudo:x:27:" + members);
        else
            group[sudo] = group[sudo].EndsWith(':') ? group[sudo] + members : group[sudo] + "," + members;
        group.AddRange(NonRoot.Select(u => $"{u.Name}:x:{u.Uid}:"));
        var shadowGid = group.Select(l => l.Split(':')).Where(f => f[0] == "shadow").Select(f => int.Parse(f[2])).FirstOrDefault();

        var shadow = passwd.Select(l => l.Split(':')[0])
            .Select(name => $"{name}:{(ours.Contains(name) ? hash : "*")}:20000:0:99999:7:::");
        return (Lines(passwd), Lines(group), Lines(shadow), shadowGid);
    }

    private static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));
}
