using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

/// <summary>
/// The same facts gathered by Ansible: Debian's <c>/usr/bin/ansible</c> (run by <c>/usr/bin/python3</c>), an ad-hoc
/// <c>ansible.builtin.shell</c> task with <c>executable: /bin/bash</c> running each node's own probe script (a host
/// variable marked <c>!unsafe</c>, so Jinja never touches it), <c>-f 100</c>, no fact gathering (ad-hoc does not
/// gather). Ansible's shipped connection defaults: ssh with <c>-C -o ControlMaster=auto -o ControlPersist=60s</c>,
/// pipelining off; only host key checking against the lab's known_hosts is added. Temp and control dirs in the bench's.
/// </summary>
internal sealed class AnsibleRunner
{
    public const string Ansible = "/usr/bin/ansible";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IReadOnlyList<ProbeNode> _nodes;
    private readonly string _inventory;
    private readonly Dictionary<string, string> _environment;

    public AnsibleRunner(string workDirectory, string knownHostsPath, string keyPath, IReadOnlyList<ProbeNode> nodes)
    {
        _nodes = nodes;
        var home = Directory.CreateDirectory(Path.Combine(workDirectory, "ansible")).FullName;
        var config = Path.Combine(home, "ansible.cfg");
        File.WriteAllText(config, "# empty: Ansible's defaults, settings come from the environment\n");
        _inventory = Path.Combine(home, "inventory.yml");
        var yaml = new StringBuilder();
        yaml.Append("all:\n  vars:\n");
        yaml.Append("    ansible_user: root\n");
        yaml.Append("    ansible_ssh_private_key_file: ").Append(JsonSerializer.Serialize(keyPath, Json)).Append('\n');
        yaml.Append("  hosts:\n");
        foreach (var node in nodes)
        {
            yaml.Append("    ").Append(JsonSerializer.Serialize(node.Name, Json)).Append(":\n");
            yaml.Append("      ansible_host: ").Append(node.Address).Append('\n');
            yaml.Append("      probe: !unsafe ").Append(JsonSerializer.Serialize(node.Script, Json)).Append('\n');
        }
        File.WriteAllText(_inventory, yaml.ToString());
        _environment = new Dictionary<string, string>
        {
            ["ANSIBLE_CONFIG"] = config,
            ["ANSIBLE_HOME"] = Path.Combine(home, "home"),
            ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(home, "tmp"),
            ["ANSIBLE_REMOTE_TEMP"] = "/tmp/.ovha-bench-ansible",
            ["ANSIBLE_SSH_CONTROL_PATH_DIR"] = Path.Combine(home, "cp"),
            ["ANSIBLE_HOST_KEY_CHECKING"] = "True",
            ["ANSIBLE_SSH_ARGS"] = $"-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={knownHostsPath} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes",
            ["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3",
            ["ANSIBLE_NOCOLOR"] = "1",
            ["ANSIBLE_RETRY_FILES_ENABLED"] = "False",
        };
    }

    /// <summary>Fails unless <c>/usr/bin/ansible</c> is Debian's, started by <c>/usr/bin/python3</c>.</summary>
    public static void CheckInstalled()
    {
        if (!File.Exists(Ansible)) throw new InvalidMeasurementException("ansible: /usr/bin/ansible is missing (apt-get install -y ansible)");
        var shebang = File.ReadLines(Ansible).First();
        if (shebang.Replace(" ", "", StringComparison.Ordinal) != "#!/usr/bin/python3")
            throw new InvalidMeasurementException($"ansible: /usr/bin/ansible starts with '{shebang}', not /usr/bin/python3");
    }

    /// <summary>One timed run over every node; every host must report CHANGED, rc=0 and the probe's <c>@end</c>.</summary>
    public async Task<double> RunAsync()
    {
        var args = new[]
        {
            "all", "-i", _inventory, "-f", "100", "-o",
            "-m", "ansible.builtin.shell", "-a", """{"cmd": "{{ probe }}", "executable": "/bin/bash"}""",
        };
        var clock = Stopwatch.StartNew();
        var result = await Exec.RunAsync(Exec.Command(Ansible, args, _environment), TimeSpan.FromMinutes(10));
        var seconds = clock.Elapsed.TotalSeconds;

        var lines = result.Stdout.Split('\n');
        var bad = _nodes.Where(n => !lines.Any(l => l.StartsWith($"{n.Name} | CHANGED | rc=0 |", StringComparison.Ordinal) && l.Contains("@end", StringComparison.Ordinal))).ToList();
        if (result.ExitCode != 0 || bad.Count > 0)
        {
            var example = bad.Count > 0 ? lines.FirstOrDefault(l => l.StartsWith($"{bad[0].Name} |", StringComparison.Ordinal)) ?? "(no line)" : "";
            throw new InvalidMeasurementException(
                $"ansible: exit {result.ExitCode}, {bad.Count} of {_nodes.Count} hosts not ok{(bad.Count > 0 ? $", e.g. {Cut(example)}" : "")}; stderr: {Cut(result.Stderr)}");
        }
        return seconds;
    }

    private static string Cut(string text) => text.Length <= 600 ? text.Trim() : text[..600] + "…";
}
