using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Install.Tests;

/// <summary>A lab of real sshd nodes and the real panel (Hangfire, SQLite, SSH.NET) pointed at it.</summary>
public sealed class LabPanel : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Dictionary<string, string?> FastJobs => new()
    {
        ["Jobs:ConnectTimeout"] = "00:00:05",
        ["Jobs:HealthTimeout"] = "00:00:20",
        ["Jobs:HealthPollInterval"] = "00:00:00.100",
        ["Jobs:InstallTimeout"] = "00:02:00",
    };

    private readonly Dictionary<string, string?> _settings;

    private LabPanel(Lab.Lab lab, PanelFactory panel, Dictionary<string, string?> settings)
    {
        Lab = lab;
        Panel = panel;
        Api = panel.ApiClient();
        _settings = settings;
    }

    public Lab.Lab Lab { get; }
    public PanelFactory Panel { get; private set; }
    public HttpClient Api { get; private set; }

    /// <param name="recordCommands">Every node records each command its sshd receives, and sudo logs to a file (<see cref="LabOptions.RecordCommands"/>).</param>
    public static async Task<LabPanel> StartAsync(int nodes, TimeSpan? installerDelay = null, string logLevel = "Information", IReadOnlyDictionary<string, string?>? settings = null,
        bool recordCommands = false)
    {
        var lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = nodes, InstallerDelay = installerDelay ?? TimeSpan.FromMilliseconds(300), RecordCommands = recordCommands });
        var all = FastJobs;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        return new LabPanel(lab, new PanelFactory { Settings = all, LogLevel = logLevel }, all);
    }

    /// <summary>The panel's own log (Serilog's files) so far.</summary>
    public string PanelLogText() => string.Concat(Directory.GetFiles(Path.Combine(Panel.DataDirectory, "logs")).Order().Select(f =>
    {
        using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }));

    /// <summary>Every file of the panel's data directory that could leak a secret in plain text: logs and both databases.</summary>
    public string DataFilesText()
    {
        var files = Directory.GetFiles(Path.Combine(Panel.DataDirectory, "logs")).Concat(Directory.GetFiles(Panel.DataDirectory, "*.db*"));
        return string.Concat(files.Select(f =>
        {
            using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            return reader.ReadToEnd();
        }));
    }

    /// <summary>Stops the panel as a crash would look to jobs (no graceful finish of their work) and starts a new one on the same data.</summary>
    public void RestartPanel()
    {
        var dir = Panel.DataDirectory;
        Panel.Dispose();
        Panel = new PanelFactory(bootstrap: true, dataDirectory: dir) { Settings = _settings };
        Api = Panel.ApiClient();
    }

    /// <summary>A cluster of lab nodes (masters first), host keys pinned as an operator who checked them would.</summary>
    public ClusterSpec Spec(string name, string version, IReadOnlyList<LabNode> masters, IReadOnlyList<LabNode> media, LabKey? key = null) =>
        Spec(Lab, name, version, masters, media, key);

    /// <summary>The same for a lab without an in-process panel (panels in their own processes).</summary>
    public static ClusterSpec Spec(Lab.Lab lab, string name, string version, IReadOnlyList<LabNode> masters, IReadOnlyList<LabNode> media, LabKey? key = null)
    {
        key ??= lab.Keys.Ed25519;
        NodeSpec Node(string role, LabNode n) => new()
        {
            Role = role,
            PrivateIp = n.Address,
            Ssh = new SshSpec
            {
                Host = n.Address, Port = n.Port, Username = "root", PrivateKey = key.PrivateKey, PrivateKeyPassphrase = key.Passphrase,
                HostKeyFingerprint = n.HostKeyFingerprint,
            },
        };
        return new ClusterSpec
        {
            Name = name,
            OpenviduVersion = version,
            DomainName = "openvidu.example.io",
            TurnDomainName = "turn.example.io",
            LicenseKey = "LABLICENSE0123456789",
            Modules = ["observability", "v2compatibility", version.StartsWith("3.0", StringComparison.Ordinal) ? "app" : "openviduMeet"],
            // https, as the panel's default: the nodes trust the lab's CA, and curl takes https only.
            InstallerBaseUrl = lab.InstallerHttpsBaseUrl,
            Nodes = masters.Select(m => Node("master", m)).Concat(media.Select(m => Node("media", m))).ToList(),
        };
    }

    public async Task<int> CreateAsync(ClusterSpec spec)
    {
        var response = await Api.PostAsJsonAsync("/api/clusters", spec, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    public async Task<HttpResponseMessage> StartJobAsync(int clusterId, string kind, int? nodeId = null) =>
        await Api.PostAsJsonAsync($"/api/clusters/{clusterId}/jobs", new { kind, nodeId }, Json);

    public async Task<int> StartJobOkAsync(int clusterId, string kind, int? nodeId = null)
    {
        var response = await StartJobAsync(clusterId, kind, nodeId);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    /// <summary>Starts a job from a whole request body (kind, nodeId and the kind's parameters); its id.</summary>
    public async Task<int> StartJobOkAsync(int clusterId, object body)
    {
        var response = await Api.PostAsJsonAsync($"/api/clusters/{clusterId}/jobs", body, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    /// <summary>A retry of <paramref name="jobId"/>, run to its end.</summary>
    public async Task<JsonObject> RetryAsync(int jobId)
    {
        var retry = await Api.PostAsync($"/api/jobs/{jobId}/retry", null);
        Assert.True(retry.StatusCode == HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
        return await WaitAsync((await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
    }

    public async Task<JsonObject> JobAsync(int jobId) => (await Api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;

    /// <summary>Polls the job until it ends (or <paramref name="until"/> holds).</summary>
    public async Task<JsonObject> WaitAsync(int jobId, Func<JsonObject, bool>? until = null, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var job = await JobAsync(jobId);
            var state = job["state"]!.GetValue<string>();
            if (until is not null ? until(job) : state is "succeeded" or "failed" or "cancelled" or "interrupted") return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {jobId} still {state} after {seconds} s: {job.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    public async Task<JsonObject> RunJobAsync(int clusterId, string kind, int? nodeId = null) => await WaitAsync(await StartJobOkAsync(clusterId, kind, nodeId));

    /// <summary>An upgrade job to <paramref name="targetVersion"/>, run to its end.</summary>
    public async Task<JsonObject> RunUpgradeAsync(int clusterId, string targetVersion)
    {
        var response = await Api.PostAsJsonAsync($"/api/clusters/{clusterId}/jobs", new { kind = "upgrade", targetVersion }, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await WaitAsync((await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
    }

    public async Task<string> LogTextAsync(int jobId)
    {
        var lines = await Api.GetFromJsonAsync<JsonArray>($"/api/jobs/{jobId}/log?after=0");
        return string.Join('\n', lines!.Select(l => l!["text"]!.GetValue<string>()));
    }

    public async Task<JsonObject> ClusterAsync(int clusterId) => (await Api.GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}"))!;

    public async Task<int> NodeIdAsync(int clusterId, string nodeName) =>
        (await ClusterAsync(clusterId))["nodes"]!.AsArray().First(n => n!["name"]!.GetValue<string>() == nodeName)!["id"]!.GetValue<int>();

    public async Task<Dictionary<string, string>> CredentialsAsync(int clusterId)
    {
        var text = await Api.GetStringAsync($"/api/clusters/{clusterId}/artifacts/credentials.env");
        return text.Split('\n').Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    }

    public static string NodeState(JsonObject job, string nodeName) =>
        job["nodes"]!.AsArray().First(n => n!["nodeName"]!.GetValue<string>() == nodeName)!["state"]!.GetValue<string>();

    public static string NodeMessage(JsonObject job, string nodeName) =>
        job["nodes"]!.AsArray().First(n => n!["nodeName"]!.GetValue<string>() == nodeName)!["message"]?.GetValue<string>() ?? "";

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        Panel.Dispose();
        await Lab.DisposeAsync();
    }
}
