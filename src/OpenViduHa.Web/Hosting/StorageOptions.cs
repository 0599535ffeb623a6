using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Web.Hosting;

/// <summary>The panel's database engine.</summary>
public enum StorageProvider
{
    /// <summary>A file in the data directory: one instance, nothing to set up (the default).</summary>
    Sqlite,

    /// <summary><c>ConnectionStrings:Panel</c>: the engine for two or more instances sharing one database.</summary>
    Postgres,
}

/// <summary><c>Storage</c>: where the panel keeps its database, Data Protection keys and logs.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";
    public const string ConnectionStringName = "Panel";

    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>Relative paths are resolved against the content root (the repository root under <c>dotnet run</c>).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>The SQLite file name inside the data directory.</summary>
    [Required]
    public string DatabaseFile { get; set; } = "panel.db";

    /// <summary>Optional: a PKCS#12 file whose RSA key encrypts the Data Protection key ring at rest.</summary>
    public KeyEncryptionCertificateOptions KeyEncryptionCertificate { get; set; } = new();

    /// <summary>The PostgreSQL connection string (<c>ConnectionStrings:Panel</c>), bound apart from this section.</summary>
    public string? ConnectionString { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
            yield return new ValidationResult(
                "Storage:Provider is Postgres but ConnectionStrings:Panel is empty: give the PostgreSQL connection string " +
                "(e.g. ConnectionStrings__Panel=\"Host=db;Database=ovha;Username=ovha;Password=…\").", [nameof(ConnectionString)]);
    }

    public override string ToString() => $"Storage {{ Provider = {Provider}, DataDirectory = {DataDirectory}, ConnectionString = {(ConnectionString is null ? "none" : "***")} }}";
}

/// <summary>
/// <c>Storage:KeyEncryptionCertificate</c>: with it, the key ring in <c>keys/</c> is encrypted with the certificate's
/// public key, so a copy of the data directory alone (a backup, a stolen disk) decrypts no stored secret.
/// </summary>
public sealed class KeyEncryptionCertificateOptions
{
    /// <summary>The .pfx/.p12 file (relative paths against the content root); empty: the key ring is kept in plain XML.</summary>
    public string? Path { get; set; }

    /// <summary>The file's password. Never logged; give it through the environment or a secret store.</summary>
    public string? Password { get; set; }

    public override string ToString() => $"KeyEncryptionCertificate {{ Path = {Path}, Password = *** }}";
}

/// <summary><c>Bootstrap</c>: the first administrator and API token for headless installs. Ignored once a user exists.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Bootstrap";

    public string? AdminUser { get; set; }
    public string? AdminPassword { get; set; }
    public string? ApiToken { get; set; }

    public override string ToString() => $"Bootstrap {{ AdminUser = {AdminUser}, AdminPassword = ***, ApiToken = *** }}";
}

/// <summary>Resolved paths of the data directory.</summary>
public sealed record DataPaths(string Root)
{
    public string Database(string file) => Path.Combine(Root, file);
    public string Keys => Path.Combine(Root, "keys");
    public string Logs => Path.Combine(Root, "logs");

    public static DataPaths Resolve(IConfiguration configuration, string contentRoot)
    {
        var configured = configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.DataDirectory)}"];
        var root = Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? "data" : configured, contentRoot);
        var paths = new DataPaths(root);
        foreach (var dir in new[] { paths.Root, paths.Keys, paths.Logs })
        {
            Directory.CreateDirectory(dir);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return paths;
    }
}
