using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Nodes;

/// <summary>Pins a node's SSH host key: what the operator confirmed, never what a server merely presented.</summary>
public sealed class HostKeyService(IDbContextFactory<PanelDbContext> dbFactory, AuditLog audit)
{
    /// <param name="replace">Re-pin a node that already has a different key (a rebuilt machine). Explicit, audited.</param>
    public async Task<Outcome> PinAsync(int nodeId, string fingerprint, bool replace, string actor, CancellationToken ct = default)
    {
        fingerprint = fingerprint?.Trim() ?? "";
        if (!Clusters.ClusterValidator.IsFingerprint(fingerprint))
            return Outcome.Invalid("fingerprint", "Give the SHA256 fingerprint as 'ssh-keygen -lf' prints it: SHA256: followed by 43 base64 characters.");
        fingerprint = Fingerprints.Normalize(fingerprint);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var node = await db.Nodes.Include(n => n.Cluster).FirstOrDefaultAsync(n => n.Id == nodeId, ct);
        if (node is null) return Outcome.NotFound($"There is no node {nodeId}.");

        if (node.HostKeyFingerprint is { } pinned && !Fingerprints.Equal(pinned, fingerprint) && !replace)
            return Outcome.Conflict($"{node.Name} is pinned to {pinned}. To trust {fingerprint} instead (the machine was rebuilt), re-pin explicitly with replace: true.");

        var previous = node.HostKeyFingerprint;
        node.HostKeyFingerprint = fingerprint;
        node.PresentedHostKeyFingerprint = null;
        audit.Add(db, actor, previous is null ? "node.hostkey.pinned" : "node.hostkey.repinned", $"{node.Cluster!.Name}/{node.Name}",
            previous is null ? fingerprint : $"{previous} -> {fingerprint}");
        await db.SaveChangesAsync(ct);
        return Outcome.Ok();
    }
}
