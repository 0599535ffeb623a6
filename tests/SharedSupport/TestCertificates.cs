using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// Self-signed certificates for the test domains, made once per test run with the real <c>openssl</c>, in the file
/// layouts NGINX (separate cert and key) and HAProxy (cert and key in one PEM) expect. Valid for one day.
/// </summary>
internal sealed class TestCertificates
{
    private static readonly Lazy<TestCertificates> _shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private TestCertificates(string directory)
    {
        Directory = directory;
        OpenViduThumbprint = Thumbprint(Path.Combine(directory, "openvidu-cert.pem"));
        TurnThumbprint = Thumbprint(Path.Combine(directory, "turn-cert.pem"));
    }

    /// <summary>The API domain the certificates are made for (the test clusters' domain).</summary>
    public const string Domain = "openvidu.example.io";

    /// <summary>The TURN domain the certificates are made for.</summary>
    public const string TurnDomain = "turn.example.io";

    public static TestCertificates Shared => _shared.Value;

    /// <summary>Holds openvidu-cert.pem, openvidu-key.pem, turn-cert.pem, turn-key.pem, openvidu.pem and turn.pem.</summary>
    public string Directory { get; }

    public string OpenViduThumbprint { get; }

    public string TurnThumbprint { get; }

    public static string Thumbprint(X509Certificate certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    private static string Thumbprint(string pemFile)
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(pemFile);
        return Thumbprint(certificate);
    }

    private static TestCertificates Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("ovha-certs-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(directory, recursive: true); } catch (IOException) { }
        };
        // NGINX reads certificates named by variables in its worker processes (an unprivileged user): let them.
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        MakePair(directory, "openvidu", Domain);
        MakePair(directory, "turn", TurnDomain);
        return new TestCertificates(directory);
    }

    private static void MakePair(string directory, string name, string commonName)
    {
        var cert = Path.Combine(directory, $"{name}-cert.pem");
        var key = Path.Combine(directory, $"{name}-key.pem");
        var result = ProcessRunner.RunAsync(RequiredTools.OpenSsl,
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={commonName}", "-addext", $"subjectAltName=DNS:{commonName}",
            "-days", "1", "-keyout", key, "-out", cert,
        ]).GetAwaiter().GetResult();
        if (result.ExitCode != 0) throw new InvalidOperationException($"openssl failed: {result}");
        File.WriteAllText(Path.Combine(directory, $"{name}.pem"), File.ReadAllText(cert) + File.ReadAllText(key));
        foreach (var file in new[] { cert, key, Path.Combine(directory, $"{name}.pem") })
            File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
    }
}
