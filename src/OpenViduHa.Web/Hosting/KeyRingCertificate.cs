using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenViduHa.Web.Hosting;

/// <summary>Loads <c>Storage:KeyEncryptionCertificate</c>; a setting that cannot be used stops the start, saying which and why.</summary>
public static class KeyRingCertificate
{
    private const string Setting = $"{StorageOptions.Section}:{nameof(StorageOptions.KeyEncryptionCertificate)}";

    /// <returns>The certificate with its private key, or null when none is configured.</returns>
    public static X509Certificate2? Load(IConfiguration configuration, string contentRoot)
    {
        var path = configuration[$"{Setting}:{nameof(KeyEncryptionCertificateOptions.Path)}"];
        if (string.IsNullOrWhiteSpace(path)) return null;
        var file = Path.GetFullPath(path, contentRoot);
        if (!File.Exists(file)) throw new InvalidOperationException($"{Setting}:Path: {file} does not exist.");

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(file, configuration[$"{Setting}:{nameof(KeyEncryptionCertificateOptions.Password)}"],
                X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            // The loader's message names neither the password nor the content.
            throw new InvalidOperationException($"{Setting}: {file} cannot be read with the given {Setting}:Password (a PKCS#12 file and its password are needed): {e.Message}", e);
        }
        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{Setting}: {file} holds no RSA private key; the key ring is encrypted with RSA (openssl req -x509 -newkey rsa:3072 …).");
        }
        return certificate;
    }
}
