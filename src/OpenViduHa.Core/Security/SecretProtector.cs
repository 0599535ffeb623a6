using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace OpenViduHa.Core.Security;

/// <summary>Encrypts secrets for the database with ASP.NET Core Data Protection (keys in the data directory).</summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("OpenViduHa.Secrets.v1");

    public string Protect<T>(T value) => _protector.Protect(JsonSerializer.Serialize(value));

    public T Unprotect<T>(string protectedValue) =>
        JsonSerializer.Deserialize<T>(_protector.Unprotect(protectedValue))
        ?? throw new InvalidOperationException("A stored secret could not be read.");
}
