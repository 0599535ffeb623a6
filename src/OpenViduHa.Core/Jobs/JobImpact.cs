using System.Globalization;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// What a job will do to a cluster, said before it starts: whether it interrupts service (then the panel asks first),
/// which nodes it touches in which order, and what their users notice.
/// </summary>
/// <param name="Disruptive">It stops or restarts OpenVidu somewhere, or writes over a node's installation.</param>
/// <param name="Title">The question to confirm ("Restart master-2?").</param>
/// <param name="Impact">The nodes and the impact, in a sentence or two.</param>
/// <param name="Action">The confirm button's words ("Restart master-2").</param>
public sealed record JobImpact(bool Disruptive, string Title, string Impact, string Action);

public static partial class JobImpacts
{
    public static JobImpact Of(JobKind kind, IReadOnlyList<NodeView> nodes, NodeView? target = null)
    {
        var masters = NodeList.Of(nodes.Where(n => n.Role == NodeRole.Master).Select(n => n.Name));
        var media = nodes.Where(n => n.Role == NodeRole.Media).Select(n => n.Name).ToList();
        var mediaText = NodeList.Of(media);
        var name = target?.Name ?? "the node";
        var isMaster = target?.Role == NodeRole.Master;
        var mediaRestart = media.Count == 0 ? "" : $", then {mediaText} one at a time: each media node's rooms end as it restarts and new rooms go to the others";
        return kind switch
        {
            JobKind.Install => new(true, $"Install OpenVidu on {nodes.Count} nodes?",
                $"Runs the OpenVidu installer on {masters} at once, starts them and waits for their health, then does the same on {(media.Count == 0 ? "no media node" : mediaText)}. " +
                "Each machine's /opt/openvidu is written and its openvidu service (re)started: anything else using those ports stops.",
                "Install"),
            JobKind.ReinstallNode => new(true, $"Reinstall {name}?",
                $"Stops OpenVidu on {name}, runs the installer again and starts it. " +
                (isMaster ? "The other 3 masters must be healthy and carry the cluster meanwhile." : $"The rooms on {name} end; new rooms go to the other media nodes."),
                $"Reinstall {name}"),
            JobKind.Restart => new(true, $"Restart {name}?",
                $"Restarts OpenVidu on {name} and waits for its health. " +
                (isMaster ? "The other 3 masters must be healthy and carry the cluster meanwhile." : $"The rooms on {name} end; new rooms go to the other media nodes."),
                $"Restart {name}"),
            JobKind.Stop => new(true, $"Stop {name}?",
                $"Stops OpenVidu on {name} until it is started again. " +
                (isMaster ? "The cluster runs on the other 3 masters with no spare: one more master down and it stops." : $"The rooms on {name} end and it takes no new ones."),
                $"Stop {name}"),
            JobKind.RollingRestart => new(true, "Restart every node?",
                $"Restarts {masters} one at a time, each healthy again before the next{mediaRestart}.",
                "Restart every node"),
            JobKind.DistributeCredentials => new(true, "Write the panel's credentials and restart every node?",
                $"Writes the panel's credentials into every node's configuration (a backup of each file first), then restarts {masters} one at a time{mediaRestart}. " +
                "If a node cannot take its files, nothing is restarted and the nodes that took theirs get the previous ones back. " +
                "Applications must use the panel's credentials (credentials.env) from then on.",
                "Write and restart"),
            JobKind.AddNode => new(false, $"Install {name}?", $"Runs the media node installer on {name}; the running nodes are not touched.", $"Install {name}"),
            JobKind.Start => new(false, $"Start {name}?", $"Starts OpenVidu on {name} and waits for its health.", $"Start {name}"),
            JobKind.Preflight => new(false, "Preflight", "Reads every machine (nothing is changed) and records host keys to confirm.", "Preflight"),
            JobKind.CheckCredentials => new(false, "Check credentials", "Reads every node's credentials and compares them with the panel's (nothing is changed).", "Check credentials"),
            JobKind.FetchInstallerDigests => new(false, "Fetch installer digests", "Reads the installer scripts from one master (nothing is changed).", "Fetch"),
            // The plan (Upgrade.UpgradePlan.Steps) says what an upgrade does, hop by hop: shown beside this.
            JobKind.Upgrade => new(true, "Upgrade every node?",
                $"Stops every node ({mediaText}, then {masters}): the cluster is down until the last hop is done and the masters are healthy again. " +
                "Each node's files are backed up by OpenVidu's updater first; a failed hop can be rolled back.",
                "Upgrade"),
            JobKind.RollbackUpgrade => new(true, "Roll the failed upgrade back?",
                $"Stops every node, puts back each node's backup of the upgrade that failed, and starts {masters}, then {(media.Count == 0 ? "no media node" : mediaText)} on the cluster's version.",
                "Roll back"),
            JobKind.RemoveNode => new(true, $"Remove {name} from the cluster?",
                $"{name} takes no new rooms and waits for its rooms to end (up to the drain timeout; force: they end at once), then OpenVidu is stopped and disabled on it " +
                "and it leaves the cluster's definition. New rooms go to the other media nodes.",
                $"Remove {name}"),
            JobKind.SetPublicIp => new(true, $"Set {name}'s public IP?",
                $"Installs {name} again with the new public IP and restarts it (its rooms end; new rooms go to the other media nodes); " +
                $"on OpenVidu 3.2 and later {masters} are then installed again one at a time, each only while the others are healthy.",
                $"Set the public IP"),
            // The plan (Reconfigure.ReconfigurePlan.Steps) says whether it stops every node or restarts the masters only.
            JobKind.Reconfigure => new(true, "Reconfigure the running cluster?",
                $"Writes the new values into the nodes' configuration (a backup of each file first) and restarts them as the plan says; " +
                "any failure puts every node back on its previous configuration.",
                "Reconfigure"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }
}

/// <summary>Node names for a sentence: consecutive numbers of one role folded ("master-1..4", "media-1, media-2", "media-1..3, media-7").</summary>
public static partial class NodeList
{
    public static string Of(IEnumerable<string> names)
    {
        var parts = new List<string>();
        string? prefix = null;
        int first = 0, last = 0;
        void Flush()
        {
            if (prefix is null) return;
            if (last - first >= 2) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{first}..{last}"));
            else for (var i = first; i <= last; i++) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i}"));
            prefix = null;
        }
        foreach (var name in names)
        {
            var match = Numbered().Match(name);
            if (!match.Success)
            {
                Flush();
                parts.Add(name);
                continue;
            }
            var (p, n) = (match.Groups[1].Value, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
            if (p == prefix && n == last + 1)
            {
                last = n;
                continue;
            }
            Flush();
            (prefix, first, last) = (p, n, n);
        }
        Flush();
        return parts.Count switch
        {
            0 => "no node",
            1 => parts[0],
            _ => string.Join(", ", parts[..^1]) + " and " + parts[^1],
        };
    }

    [GeneratedRegex(@"\A(.*-)([0-9]{1,6})\z")]
    private static partial Regex Numbered();
}
