using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenViduHa.Lab;

/// <summary>
/// The lab's TLS: a CA made in-process for each lab (ECDSA P-256, no openssl per lab) and a server certificate it signs
/// for IP 127.0.0.1, the installer server's HTTPS address. Every node trusts the CA through its own
/// <c>/etc/ssl/certs/ca-certificates.crt</c> (<see cref="NodeImage"/>); the machine's trust store is never touched.
/// </summary>
internal sealed class LabCertificates : IDisposable
{
    /// <summary>Debian's bundle, the file curl (OpenSSL) reads by default; the lab's nodes get their own.</summary>
    public const string BundlePath = "/etc/ssl/certs/ca-certificates.crt";

    private LabCertificates(string caPem, X509Certificate2 server)
    {
        CaPem = caPem;
        Server = server;
    }

    /// <summary>The CA certificate, PEM (<c>-----BEGIN CERTIFICATE-----</c>…), with a final newline.</summary>
    public string CaPem { get; }

    /// <summary>The server certificate with its private key, as SslStream on Linux takes it.</summary>
    public X509Certificate2 Server { get; }

    public static LabCertificates Create(int labId)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=OpenViduHa.Lab {labId} CA, O=OpenViduHa.Lab", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var caSubjectKey = new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false);
        caRequest.CertificateExtensions.Add(caSubjectKey);
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN=127.0.0.1, O=OpenViduHa.Lab {labId}", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build(true));
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(serverRequest.PublicKey, false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(caSubjectKey));
        using var signed = serverRequest.Create(ca, now.AddDays(-1), now.AddDays(30), RandomNumberGenerator.GetBytes(16));
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        // Through PKCS#12: a key SslStream (OpenSSL) can use for the handshake, not only the ephemeral one in memory. The
        // PKCS#12 never leaves this process: one PBE iteration, not the default thousands (some 100 ms a lab on this machine).
        var pkcs12 = withKey.ExportPkcs12(new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1), null);
        var server = X509CertificateLoader.LoadPkcs12(pkcs12, null);
        return new LabCertificates(ca.ExportCertificatePem() + "\n", server);
    }

    /// <summary>What a node's <c>/etc/ssl/certs/ca-certificates.crt</c> holds: the machine's bundle, if it has one, then the lab CA.</summary>
    public string NodeBundle()
    {
        var machine = File.Exists(BundlePath) ? File.ReadAllText(BundlePath) : "";
        if (machine.Length > 0 && !machine.EndsWith('\n')) machine += "\n";
        return machine + CaPem;
    }

    public void Dispose() => Server.Dispose();
}
