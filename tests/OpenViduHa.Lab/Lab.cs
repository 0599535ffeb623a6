using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace OpenViduHa.Lab;

/// <summary>
/// A lab of real SSH machines for tests and benchmarks: <see cref="LabOptions.Nodes"/> OpenSSH servers, each bound to its
/// own loopback address (127.&lt;lab id&gt;.x.y:22) inside a private mount namespace, with stand-ins for what cannot run
/// here (the OpenVidu installer, systemd, Docker). Start one with <see cref="StartAsync"/>, dispose it to end every
/// process it started. Labs in one test run, or in parallel test processes, never share an address. Root only.
/// </summary>
public sealed class Lab : IAsyncDisposable
{
    /// <summary>Lab ids are the second octet of the addresses: 1 to 250 (127.0.x.x is left to everything else).</summary>
    public const int MaxLabs = 250;

    private static readonly ConcurrentDictionary<Lab, byte> _live = new();
    private readonly LabOptions _options;
    private readonly FileStream _idLock;
    private readonly List<LabNode> _nodes = [];
    private readonly Lock _knownHostsLock = new();
    private InstallerServer? _server;
    private LabCertificates? _certificates;
    private Supervisor? _supervisor;
    private int _disposed;

    static Lab()
    {
        // A test run that ends without disposing its labs still ends them (the supervisor also does on its own).
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var lab in _live.Keys) lab.EndNow();
        };
    }

    private Lab(LabOptions options, int id, FileStream idLock)
    {
        _options = options;
        Id = id;
        _idLock = idLock;
        // A fresh folder per lab: nothing a previous lab with this id left behind can get in the way.
        Directory = Path.Combine(options.RootDirectory, $"{id}-{Guid.NewGuid().ToString("N")[..8]}");
        KnownHostsPath = Path.Combine(Directory, "known_hosts");
    }

    /// <summary>1 to <see cref="MaxLabs"/>: node k's address is 127.&lt;Id&gt;.((k-1)/250).((k-1)%250+1).</summary>
    public int Id { get; }

    public IReadOnlyList<LabNode> Nodes => _nodes;

    /// <summary>
    /// The lab's stand-in for <c>http://get.openvidu.io</c>, e.g. <c>http://127.0.0.1:41234</c>: set it as the cluster's
    /// installer base URL. It serves <c>/pro/ha/&lt;X.Y.Z|latest&gt;/install_ov_{master,media}_node.sh</c> and the updater,
    /// <c>/update/&lt;X.Y.Z|latest&gt;/update.sh</c>.
    /// </summary>
    public string InstallerBaseUrl => Server.BaseUrl;

    /// <summary>
    /// The same server over HTTPS, e.g. <c>https://127.0.0.1:41235</c>, the same paths. Its certificate (IP 127.0.0.1) is
    /// signed by the lab's CA (<see cref="InstallerCaPem"/>), which every node trusts as Debian's curl does by default.
    /// </summary>
    public string InstallerHttpsBaseUrl => Server.HttpsBaseUrl;

    /// <summary>The lab CA's certificate (PEM), for a client on the host that fetches from <see cref="InstallerHttpsBaseUrl"/>.</summary>
    public string InstallerCaPem => (_certificates ?? throw new InvalidOperationException("The lab is not running.")).CaPem;

    /// <summary>How many installer scripts the lab's server has handed out (200 answers, over HTTP and HTTPS).</summary>
    public int InstallerDownloads => Server.Downloads;

    /// <summary>How many updater scripts the lab's server has handed out (200 answers, over HTTP and HTTPS).</summary>
    public int UpdaterDownloads => Server.UpdaterDownloads;

    /// <summary>
    /// OpenVidu's updater chain, oldest first: 3.0.0 → 3.1.0 → … → 3.9.0. Each release's updater (served for every release
    /// but the first) takes a node from the release before it only, one hop per run.
    /// </summary>
    public static IReadOnlyList<string> UpdateChain => InstallerServer.UpdateChain;

    /// <summary>
    /// Lab-wide fault: while true, the HTTPS server answers every GET or HEAD with <c>302 Found</c> and
    /// <c>Location: http://127.0.0.1:&lt;http port&gt;&lt;same path&gt;</c> (a downgrade to plain HTTP). The HTTP server is unchanged.
    /// </summary>
    public bool InstallerRedirectsToHttp
    {
        get => Server.RedirectsToHttp;
        set => Server.RedirectsToHttp = value;
    }

    /// <summary>
    /// Lab-wide fault: while true, both servers serve every script (installers and updaters) with one harmless line more
    /// (<c># tampered by the lab</c> after the first): it still works, but its SHA-256 is no longer
    /// <see cref="InstallerSha256"/> (<see cref="UpdaterSha256"/>).
    /// </summary>
    public bool InstallerTampered
    {
        get => Server.Tampered;
        set => Server.Tampered = value;
    }

    /// <summary>The client keys every node accepts (and one none does).</summary>
    public LabKeys Keys { get; private set; } = null!;

    /// <summary>The password of <see cref="LabUsers.Deploy"/> and <see cref="LabUsers.DeployNoPasswd"/>, for login and for sudo.</summary>
    public string DeployPassword { get; private set; } = "";

    /// <summary>A known_hosts file with every node's current host key, for the real <c>ssh</c> client.</summary>
    public string KnownHostsPath { get; }

    /// <summary>
    /// The lab's folder on the host, <c>&lt;root&gt;/&lt;id&gt;-&lt;random&gt;</c>: keys, node file systems, sshd logs
    /// (<c>nodes/&lt;k&gt;/sshd.log</c>).
    /// </summary>
    public string Directory { get; }

    /// <summary>How long <see cref="StartAsync"/> took.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>The service host's FIFO (Assets/supervisor.py, ServiceHost): every node's openvidu service is asked there.</summary>
    internal string ServiceFifo => Path.Combine(Directory, "share", "service.fifo");

    internal Supervisor Supervisor => _supervisor ?? throw new InvalidOperationException("The lab is not running.");

    private InstallerServer Server => _server ?? throw new InvalidOperationException("The lab is not running.");

    /// <summary>The installer URL of a version (<c>X.Y.Z</c> or <c>latest</c>) for a master or a media node.</summary>
    public string InstallerUrl(string version, bool masterNode) => InstallerBaseUrl + InstallerServer.ScriptPath(version, masterNode);

    /// <summary>The same over HTTPS: <see cref="InstallerHttpsBaseUrl"/><c>/pro/ha/&lt;version&gt;/install_ov_…_node.sh</c>.</summary>
    public string InstallerHttpsUrl(string version, bool masterNode) => InstallerHttpsBaseUrl + InstallerServer.ScriptPath(version, masterNode);

    /// <summary>
    /// The lowercase hex SHA-256 of exactly the bytes the servers hand out for a script (<c>X.Y.Z</c> or <c>latest</c>),
    /// untampered: what a pinned checksum would hold. Throws <see cref="ArgumentException"/> for a script the lab does not serve.
    /// </summary>
    public string InstallerSha256(string version, bool masterNode) => Server.Sha256(version, masterNode);

    /// <summary>The updater URL of a version (<c>X.Y.Z</c> or <c>latest</c>): <see cref="InstallerBaseUrl"/><c>/update/&lt;version&gt;/update.sh</c>.</summary>
    public string UpdaterUrl(string version) => InstallerBaseUrl + InstallerServer.UpdaterScriptPath(version);

    /// <summary>The same over HTTPS: <see cref="InstallerHttpsBaseUrl"/><c>/update/&lt;version&gt;/update.sh</c>.</summary>
    public string UpdaterHttpsUrl(string version) => InstallerHttpsBaseUrl + InstallerServer.UpdaterScriptPath(version);

    /// <summary>
    /// The lowercase hex SHA-256 of exactly the bytes the servers hand out for an updater (<c>X.Y.Z</c> or <c>latest</c>),
    /// untampered. Throws <see cref="ArgumentException"/> for one the lab does not serve (the chain's first release, or
    /// any release off <see cref="UpdateChain"/>).
    /// </summary>
    public string UpdaterSha256(string version) => Server.UpdaterSha256(version);

    /// <summary>Starts a lab; returns once every node's sshd accepts connections.</summary>
    public static async Task<Lab> StartAsync(LabOptions? options = null, CancellationToken ct = default)
    {
        options ??= new LabOptions();
        if (options.Nodes is < 1 or > LabOptions.MaxNodes)
            throw new ArgumentOutOfRangeException(nameof(options), options.Nodes, $"A lab has 1 to {LabOptions.MaxNodes} nodes.");
        if (options.RootDirectory.Any(c => char.IsWhiteSpace(c) || c == ':') || !Path.IsPathRooted(options.RootDirectory) ||
            options.RootDirectory.TrimEnd('/') == "/tmp" || options.RootDirectory.StartsWith("/tmp/", StringComparison.Ordinal))
            throw new ArgumentException($"The lab root is an absolute path outside /tmp, without spaces or colons: {options.RootDirectory}", nameof(options));
        if (options.InstallerDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.InstallerDelay, "The installer delay is not negative.");
        Tools.CheckPrerequisites(options.RecordCommands);
        var clock = Stopwatch.StartNew();
        var (id, idLock) = AcquireId();
        var lab = new Lab(options, id, idLock);
        _live.TryAdd(lab, 0);
        try
        {
            await lab.BootAsync(ct);
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
        lab.StartupTime = clock.Elapsed;
        return lab;
    }

    private async Task BootAsync(CancellationToken ct)
    {
        // A test process killed outright may have left this id's processes (its supervisor normally ends them).
        Tools.EndLab(Id);
        System.IO.Directory.CreateDirectory(_options.RootDirectory);
        foreach (var stale in System.IO.Directory.EnumerateDirectories(_options.RootDirectory, $"{Id}-*"))
        {
            try
            {
                System.IO.Directory.Delete(stale, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        Tools.MakeDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        var share = Path.Combine(Directory, "share");
        System.IO.Directory.CreateDirectory(share);
        var rx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                 UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var nodeScript = Path.Combine(share, "node.py");
        var supervisorScript = Path.Combine(share, "supervisor.py");
        Tools.WriteFile(nodeScript, Asset("node.py"), rx);
        Tools.WriteFile(Path.Combine(share, "systemctl"), Asset("systemctl.sh"), rx);
        Tools.WriteFile(Path.Combine(share, "docker"), Asset("docker.sh"), rx);
        Tools.WriteFile(supervisorScript, Asset("supervisor.py"), rx);

        var keysTask = LabKeys.CreateAsync(Path.Combine(Directory, "keys"), Path.Combine(_options.RootDirectory, "client-keys"), ct);
        var passwordTask = LabUsers.PasswordAsync(ct);
        _certificates = LabCertificates.Create(Id);
        // One bundle per lab, hard-linked into every node's /etc (see NodeImage.Write).
        var caBundle = Path.Combine(share, "ca-certificates.crt");
        Tools.WriteFile(caBundle, _certificates.NodeBundle(), UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Keys = await keysTask;
        var (password, hash) = await passwordTask;
        DeployPassword = password;
        var users = LabUsers.Files(hash);
        var shared = new NodeImage.Shared(users.Passwd, users.Group, users.Shadow, users.ShadowGid, Keys.AuthorizedKeysFile,
            nodeScript, caBundle, _options.InstallerDelay, NodeImage.UptimeEpochCentiseconds(), _options.RecordCommands, _options.Cpus);

        _server = new InstallerServer(Asset("install_ov_node.sh"), Asset("update.sh"), _options.LatestVersion, _certificates);
        _supervisor = Supervisor.Start(supervisorScript, Directory, Id, IdLockFile(Id), _options.KeepFiles, SshdArguments());

        var planned = Enumerable.Range(1, _options.Nodes).Select(k => (
            Index: k,
            Address: $"127.{Id}.{(k - 1) / 250}.{(k - 1) % 250 + 1}",
            Name: $"lab{Id}-node{k}",
            Directory: Path.Combine(Directory, "nodes", k.ToString(CultureInfo.InvariantCulture)))).ToList();
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "nodes"));
        Parallel.ForEach(planned, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, node =>
        {
            NodeImage.Write(node.Directory, node.Name, node.Address, shared);
            NodeImage.WriteHostKey(NodeImage.HostKeyFile(node.Directory), node.Name);
        });
        _nodes.AddRange(planned.Select(p => new LabNode(this, p.Index, p.Address, p.Name, p.Directory)));

        var holders = (await Supervisor.SendAsync("boot " + string.Join(' ', _nodes.Select(n => $"{n.Index}:{n.Name}:{n.Directory}")),
            TimeSpan.FromSeconds(60), ct)).Split(' ');
        for (var i = 0; i < _nodes.Count; i++) _nodes[i].Booted(int.Parse(holders[i], CultureInfo.InvariantCulture));
        WriteKnownHosts();
        await Supervisor.SendAsync("sshd-start " + string.Join(' ', _nodes.Select(n => $"{n.Address}={n.Index}")),
            TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>
    /// <c>-r</c> (no re-execution per connection) where OpenSSH still has it (before 9.8): every connection then costs one
    /// exec less, which a lab of many nodes driven in parallel notices. Sessions are the same either way.
    /// </summary>
    private static string[] SshdArguments() =>
        Tools.OpenSshVersion.Value < new Version(9, 8) ? ["-r"] : [];

    internal void WriteKnownHosts()
    {
        lock (_knownHostsLock)
        {
            var path = KnownHostsPath + ".tmp";
            File.WriteAllText(path, string.Concat(_nodes.Select(n => n.KnownHostsLine + "\n")));
            File.Move(path, KnownHostsPath, overwrite: true);
        }
    }

    /// <summary>Ends every process the lab started (sshd, sessions, services, namespace holders) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _live.TryRemove(this, out _);
        if (_supervisor is { } supervisor)
        {
            try
            {
                await supervisor.SendAsync("teardown", TimeSpan.FromSeconds(120));
            }
            catch (LabException)
            {
            }
            if (!supervisor.CloseAndWait(TimeSpan.FromSeconds(30))) supervisor.Kill();
            supervisor.Dispose();
        }
        Fallback();
        if (_server is { } server) await server.DisposeAsync();
        _certificates?.Dispose();
        _idLock.Dispose();
    }

    /// <summary>At process exit: no awaiting, no supervisor conversation; closing its stdin makes it tear down.</summary>
    private void EndNow()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_supervisor is { } supervisor && !supervisor.CloseAndWait(TimeSpan.FromSeconds(10))) supervisor.Kill();
        Fallback();
    }

    /// <summary>Whatever the supervisor could not end (it died, or was killed): by namespace, then the folder.</summary>
    private void Fallback()
    {
        Tools.EndLab(Id);
        if (!_options.KeepFiles && System.IO.Directory.Exists(Directory))
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Where lab ids are locked: one place for the whole machine, whatever root directory each lab uses.</summary>
    private const string IdLocks = "/run/lock/ovha-lab-ids";

    private static string IdLockFile(int id) => Path.Combine(IdLocks, $"{id}.lock");

    /// <summary>
    /// Takes the first free lab id: an exclusive lock on <c>/run/lock/ovha-lab-ids/&lt;id&gt;.lock</c> (flock, so a dead
    /// process frees it), shared by every test process on the machine.
    /// </summary>
    private static (int Id, FileStream Lock) AcquireId()
    {
        var locks = IdLocks;
        System.IO.Directory.CreateDirectory(locks);
        for (var id = 1; id <= MaxLabs; id++)
        {
            try
            {
                return (id, new FileStream(IdLockFile(id), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
            }
        }
        throw new LabException($"All {MaxLabs} lab ids are taken.");
    }

    private static string Asset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenViduHa.Lab.Assets." + name)
            ?? throw new LabException($"Lab asset {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
