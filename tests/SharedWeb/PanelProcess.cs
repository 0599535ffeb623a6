using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Tests.Shared;

/// <summary>
/// The panel as an operator runs it: its own process (<c>dotnet OpenViduHa.Web.dll</c> from the Web project's build
/// output, the repository as content root), configured through the environment, on a free loopback port. Unlike the
/// in-process hosts it can be killed with SIGKILL, as a crashed machine would stop it.
/// </summary>
public sealed class PanelProcess : IAsyncDisposable
{
    /// <summary>The bootstrap administrator and token every panel process starts with (the first one to start creates them).</summary>
    public const string AdminUser = "admin";
    public const string AdminPassword = "a-long-admin-password-1";
    public const string ApiToken = "ovha_bootstrap_0123456789abcdef0123456789abcdef";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PanelProcess(Process process, Uri baseAddress, string dataDirectory, string name)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
        Name = name;
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public string DataDirectory { get; }

    /// <summary>What the process wrote to stdout and stderr so far (its console log).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>Starts a panel with the bootstrap administrator and token above, and <paramref name="settings"/> (configuration keys, <c>:</c> separated).</summary>
    public static async Task<PanelProcess> StartAsync(string name, IReadOnlyDictionary<string, string?> settings)
    {
        var testBin = Path.GetDirectoryName(typeof(PanelProcess).Assembly.Location)!;
        var configuration = testBin.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RepoRoot.Path, "src", "OpenViduHa.Web", "bin", configuration, "net10.0", "OpenViduHa.Web.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first (test.sh does).");
        var port = FreePort.Get();
        var data = Directory.CreateTempSubdirectory($"ovha-{name}-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Storage:DataDirectory"] = data,
            ["Bootstrap:AdminUser"] = AdminUser,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Bootstrap:ApiToken"] = ApiToken,
        };
        foreach (var (key, value) in settings) environment[key] = value;
        foreach (var (key, value) in environment) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var process = new Process { StartInfo = start };
        var panel = new PanelProcess(process, new Uri($"http://127.0.0.1:{port}/"), data, name);
        process.OutputDataReceived += (_, e) => panel.Append(e.Data);
        process.ErrorDataReceived += (_, e) => panel.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = panel.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"Panel {name} exited with {process.ExitCode} while starting:\n{panel.Output}");
            try
            {
                if ((await probe.GetAsync("healthz")).StatusCode == HttpStatusCode.OK) return panel;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Panel {name} did not answer /healthz within 90 s:\n{panel.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>A client of its API with the bootstrap token.</summary>
    public HttpClient Api()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);
        return client;
    }

    /// <summary>
    /// Established TCP connections from this process to any of <paramref name="peers"/> (<c>address:port</c>), as the
    /// kernel lists them (<c>ss -tnp</c>): e.g. its kept SSH status connections to a cluster's nodes.
    /// </summary>
    public int ConnectionsTo(IReadOnlyCollection<string> peers)
    {
        var start = new ProcessStartInfo("ss", ["-tnpH", "state", "established"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var ss = Process.Start(start)!;
        var output = ss.StandardOutput.ReadToEnd();
        ss.WaitForExit();
        if (ss.ExitCode != 0) throw new InvalidOperationException($"ss exited with {ss.ExitCode} (iproute2 missing?)");
        return output.Split('\n').Count(line =>
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // .NET's sockets are dual-mode: the peer shows as [::ffff:127.1.0.5]:22.
            return fields.Length >= 5 && peers.Contains(fields[3].Replace("[::ffff:", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal))
                && line.Contains($"pid={ProcessId},", StringComparison.Ordinal);
        });
    }

    /// <summary>SIGTERM, as a service manager stops it: the panel's own shutdown runs; waits for the process to end.</summary>
    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", ProcessId.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGKILL: no shutdown, no goodbye; its SSH connections drop with it.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A log file closing late: the temp folder goes with the machine's cleaning.
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Append(line).Append('\n');
    }
}
