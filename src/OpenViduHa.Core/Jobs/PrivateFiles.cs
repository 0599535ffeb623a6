using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// How a job hands a node anything secret (an install script with the cluster's secrets, a config file's new values):
/// as a file, never on a command line. A command line is readable by every local user in /proc while it runs, and sudo
/// writes it to the auth log; a file in a root-only folder is not. The content goes over SFTP as the login user into a
/// folder only that user can enter, then, as root, into <see cref="Directory"/> (mode 0700, owned by root) with a random
/// name; the caller runs or installs it by its path and removes it with <see cref="RemoveAsync"/>. Every command sent
/// carries paths only. What a cancel, a timeout or a panel restart leaves behind is removed at the next connection of a
/// changing job (<see cref="CleanLeftoversAsync"/>).
/// </summary>
public sealed class PrivateFiles(IOptions<JobOptions> options)
{
    /// <summary>Root-only (0700). Under /run: a tmpfs on systemd machines, so the secrets never reach a disk there.</summary>
    public const string Directory = "/run/ovha-panel";

    /// <summary>Where the login user's SFTP upload lands first: <c>/tmp/.ovha-j&lt;job&gt;-&lt;random&gt;</c>, mode 0700.</summary>
    private const string UploadPrefix = "/tmp/.ovha-";

    /// <summary>
    /// Writes <paramref name="content"/> into a new root-only file (mode 0700, owner root) and returns its path,
    /// <c>/run/ovha-panel/j&lt;job&gt;-&lt;random&gt;-&lt;name&gt;</c>.
    /// </summary>
    public async Task<string> PutAsync(JobRun run, ISshSession session, string name, string content)
    {
        var q = ShellQuote.Quote;
        var random = RandomPart();
        var upload = $"{UploadPrefix}j{run.Context.JobId}-{random}";
        var target = $"{Directory}/j{run.Context.JobId}-{random}-{name}";
        var handedOver = false;
        try
        {
            // mkdir, not mkdir -p: it fails on anything already there (a planted folder or link), never reuses it.
            await RunAsync(run, session, $"umask 077 && mkdir {q(upload)}", asRoot: false, "create a private upload folder");
            await session.UploadAsync($"{upload}/{name}", Encoding.UTF8.GetBytes(content), run.Cancellation);
            await RunAsync(run, session,
                $"umask 077 && mkdir -p {Directory} && chmod 700 {Directory} && " +
                $"install -m 0700 -o root -g root {q($"{upload}/{name}")} {q(target)}",
                asRoot: true, $"move the file into {Directory}");
            handedOver = true;
            return target;
        }
        finally
        {
            await RemoveQuietlyAsync(session, $"rm -rf -- {q(upload)}", asRoot: false);
            // A cancel or a failure while the file was being moved: it may be there already, and the caller never learns
            // its name to remove it.
            if (!handedOver) await RemoveAsync(session, target);
        }
    }

    /// <summary>Removes files <see cref="PutAsync"/> made. Never throws: it runs in <c>finally</c> blocks, also after a cancel.</summary>
    public Task RemoveAsync(ISshSession session, params string[] paths) =>
        paths.Length == 0 ? Task.CompletedTask : RemoveQuietlyAsync(session, "rm -f -- " + string.Join(' ', paths.Select(ShellQuote.Quote)), asRoot: true);

    /// <summary>
    /// Removes what earlier jobs left (a cancel or timeout whose removal could not run, a panel that stopped mid-job): every
    /// entry of <see cref="Directory"/> and every <c>/tmp/.ovha-*</c> upload folder except the running job's own. Only
    /// changing jobs call it, and at most one of them runs per cluster, so nothing of a running job is touched. Returns how
    /// many entries went.
    /// </summary>
    public async Task<int> CleanLeftoversAsync(JobRun run, ISshSession session)
    {
        var keep = $"j{run.Context.JobId}-";
        var script =
            "n=0\n" +
            $"for f in {Directory}/* {UploadPrefix}*; do\n" +
            "  [ -e \"$f\" ] || [ -L \"$f\" ] || continue\n" +
            // Locks (*.lock) are kept: a process an interrupted job left running may hold one (openvidu-update.lock).
            $"  case \"${{f##*/}}\" in {keep}*|.ovha-{keep}*|*.lock) ;; *) rm -rf -- \"$f\" && n=$((n + 1)) ;; esac\n" +
            "done\n" +
            "echo \"$n\"";
        var result = await session.RunAsync(script, new SshRunOptions { Description = "remove leftovers of earlier jobs", Timeout = options.Value.CommandTimeout }, run.Cancellation);
        return result.Succeeded && int.TryParse(result.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var removed) ? removed : 0;
    }

    private async Task RunAsync(JobRun run, ISshSession session, string command, bool asRoot, string description)
    {
        var result = await session.RunAsync(command, new SshRunOptions { AsRoot = asRoot, Description = description, Timeout = options.Value.CommandTimeout }, run.Cancellation);
        if (!result.Succeeded) throw new SshFailureException(SshFailureKind.CommandFailed, $"Could not {description} on {session.Target.NodeName}: {result.LastMessage()}");
    }

    private async Task RemoveQuietlyAsync(ISshSession session, string command, bool asRoot)
    {
        try
        {
            await session.RunAsync(command, new SshRunOptions { AsRoot = asRoot, Description = "remove private files", Timeout = options.Value.CommandTimeout }, CancellationToken.None);
        }
        catch (SshFailureException)
        {
            // The connection is gone: the next changing job's connection removes the leftovers (CleanLeftoversAsync).
        }
    }

    /// <summary>12 lowercase letters and digits: an unguessable name.</summary>
    private static string RandomPart() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12);
}
