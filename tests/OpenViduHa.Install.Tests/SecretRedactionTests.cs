using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// Output that carries a secret never reaches what the panel keeps. The lab's installer and service print values they
/// were given (fault switches: a verbose installer, a failing one, a service that prints its config at start); the job
/// log, the failing node's message and the panel's data files (Serilog's logs, its database, Hangfire's) must show
/// <c>***</c> in their place, while user names stay readable.
/// </summary>
public sealed class SecretRedactionTests
{
    [Fact]
    public async Task Install_InstallerAndServicePrintSecrets_LogNodeMessageAndDataFilesHoldStarsNotValues()
    {
        // Arrange: master-1 reached as deploy, with an SSH and a sudo password. Its installer prints the Redis password, the
        // licence, the dashboard admin user and that password, and its service prints its config when started; master-4's
        // installer prints the same on stderr and fails with the Redis password in its last line.
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Debug");
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("redacted", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]);
        var ssh = spec.Nodes![0].Ssh!;
        (ssh.Username, ssh.PrivateKey, ssh.PrivateKeyPassphrase) = (LabUsers.Deploy, null, null);
        (ssh.Password, ssh.SudoPassword) = (lp.Lab.DeployPassword, lp.Lab.DeployPassword);
        var id = await lp.CreateAsync(spec);
        var cluster = (await lp.Panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(id))!;
        nodes[0].EchoingInstaller($"sudo password: {lp.Lab.DeployPassword}");
        nodes[0].VerboseService(true);
        nodes[3].EchoingInstaller($"sudo password: {lp.Lab.DeployPassword}", fails: true);

        // Act
        var job = await lp.RunJobAsync(id, "install");

        // Assert: the output did reach the log, with stars in place of every value the panel holds as a secret.
        var log = await lp.LogTextAsync(job["id"]!.GetValue<int>());
        Assert.Contains("Given --redis-password=***\n", log, StringComparison.Ordinal);
        Assert.Contains("Given --openvidu-pro-license=***\n", log, StringComparison.Ordinal);
        Assert.Contains("sudo password: ***\n", log, StringComparison.Ordinal);
        Assert.Contains("openvidu: REDIS_PASSWORD=***\n", log, StringComparison.Ordinal);        // systemctl start's output
        Assert.Contains("openvidu: LIVEKIT_API_SECRET=***\n", log, StringComparison.Ordinal);
        // User names are no secrets: blanking "admin" out of every line would help nobody.
        Assert.Contains("Given --dashboard-admin-user=admin\n", log, StringComparison.Ordinal);
        Assert.Contains("openvidu: DASHBOARD_ADMIN_USERNAME=admin\n", log, StringComparison.Ordinal);
        // The failing node's message is the installer's last line, blanked out the same way.
        Assert.Equal("failed", LabPanel.NodeState(job, "master-4"));
        Assert.Equal("The installer failed (exit 1): Error: Redis refused the password ***", LabPanel.NodeMessage(job, "master-4"));
        Assert.Equal("succeeded", LabPanel.NodeState(job, "master-1"));
        // The panel's own log tells the story without the UI: the start, each node's end, the job's end, blanked out too.
        var id0 = job["id"]!.GetValue<int>();
        var panelLog = lp.PanelLogText();
        Assert.Contains($"Job {id0} install started on 5 node(s) of cluster redacted (OpenVidu 3.8.0)", panelLog, StringComparison.Ordinal);
        Assert.Contains($"Job {id0} install on master-1: succeeded", panelLog, StringComparison.Ordinal);
        Assert.Contains($"Job {id0} install on master-4: failed: The installer failed (exit 1): Error: Redis refused the password ***\n", panelLog, StringComparison.Ordinal);
        Assert.Matches($@"Job {id0} install of cluster {id} failed after \d\d:\d\d:\d\d: Failed on [^\n]*master-4", panelLog);
        var dataFiles = lp.DataFilesText();
        Assert.Contains("Given --redis-password=***", dataFiles, StringComparison.Ordinal);
        var secrets = cluster.Secrets.Where(s => SecretCatalog.Find(s.Key)?.Kind != SecretKind.Identity).Select(s => s.Value)
            .Append(cluster.LicenseKey).Append(lp.Lab.DeployPassword).ToList();
        Assert.Contains(cluster.Secret(SecretCatalog.RedisPassword), secrets);
        var jobJson = job.ToJsonString();
        foreach (var secret in secrets)
        {
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"A secret ({secret.Length} characters) is in the job log.");
            Assert.False(jobJson.Contains(secret, StringComparison.Ordinal), $"A secret ({secret.Length} characters) is in the job's node messages.");
            Assert.False(dataFiles.Contains(secret, StringComparison.Ordinal), $"A secret ({secret.Length} characters) is in the panel's logs or databases.");
        }
    }
}
