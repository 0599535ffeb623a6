#!/usr/bin/python3 -IS
"""Stand-ins inside an OpenViduHa.Lab node for what cannot run in the lab: systemd and Docker.

/usr/local/bin/journalctl is a link to this file (it dispatches on the name it was run as, or on its first argument
when run as node.py); /usr/local/bin/systemctl is systemctl.sh, which does start, stop, restart and is-active of
openvidu itself (no python start on the hot path) and hands everything else to `node.py systemctl ...`;
/usr/local/bin/docker is docker.sh, which has the lab's service host run `docker ps|inspect --format ...` with this
file's code (loaded once in the host: see ServiceHost.docker in supervisor.py) and hands everything else to
`node.py docker ...`.
The openvidu service is not a process of the node: the lab's service host (supervisor.py, ServiceHost) listens on the
role's ports on the node's address while it runs; start and stop ask it (see ask()).
Everything the lab knows about a node is in /usr/local/lib/ovha-lab (the lab writes faults there, this reads them):
  node.env              LAB_NODE_NAME, LAB_NODE_ADDRESS, LAB_NODE_STATE, LAB_SHARE, LAB_INSTALLER_DELAY (by the lab)
  installed             ROLE, VERSION, GENERATION, MODULES (written by the installer stand-in)
  service.pid           while the service runs: the service host's pid, then the start (epoch seconds, 3 decimals);
                        written once all its ports listen
  service.stopped       when the service last stopped (epoch seconds, 3 decimals)
  restarting-container  NAME SINCE-EPOCH: that container keeps restarting (fault)
  media-stats-stale     present: a media node answers 406 Not Ready (fault)
  closed-ports          ports (one a line) the service does not listen on (fault; the service host reads it)
  journal.log           what `journalctl -u openvidu` prints
  rooms                 the rooms a media node's media server hosts (a count; the lab sets it; 0 when missing)
  drain                 while `docker stop openvidu` waits for them: timeout=N started=EPOCH stamp=S pid=P (P waits)
  drain-force           present: a second SIGTERM (another docker stop, TERM) or a KILL reached the draining server
  drains                a line per drain that ended: timeout= started= ended= outcome=drained|killed|forced rooms_cut=
  rooms-cut             a line per event that ended rooms still hosted: at=EPOCH rooms=N by=docker-stop|service-stop
  openvidu-exited       the media server's container exited while the service ran on: code=C ended=EPOCH stamp=S
                        (S: the service run it belongs to, service.pid's second line; a start removes the file)
The unit's enablement is systemd's own: the symlink /etc/systemd/system/multi-user.target.wants/openvidu.service.
"""

import hashlib
import json
import os
import sys
import time

STATE = "/usr/local/lib/ovha-lab"
UNIT = "/etc/systemd/system/openvidu.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/openvidu.service"  # the unit's [Install] WantedBy, enabled
UNIT_NAMES = ("openvidu", "openvidu.service")

# Where the node's file system is seen from: "" inside the node; the service host, which runs docker's code for every
# node, sets it to /proc/<pid of the asking docker.sh>/root for the length of a request.
ROOT = ""


def state(name):
    """A file of the lab's state of this node."""
    return ROOT + STATE + "/" + name


def unit_exists():
    return os.path.exists(ROOT + UNIT)


# ---- node state ----------------------------------------------------------------------------------------------------

def read_env(path):
    values = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    values[key] = value.strip("'\"")
    except FileNotFoundError:
        pass
    return values


def node_env():
    return read_env(state("node.env"))


def installed():
    """The installation, once the installer finished and its unit file is still there; else None."""
    if not unit_exists():
        return None
    values = read_env(state("installed"))
    return values if values.get("ROLE") else None


def host_alive(pid):
    """Whether pid is the lab's service host (named ovha-svc-<lab id>)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().startswith("ovha-svc-")
    except OSError:
        return False


def service_pid():
    try:
        with open(state("service.pid")) as f:
            pid = int(f.read().split()[0])
        return pid if host_alive(pid) else None
    except (OSError, ValueError, IndexError):
        return None


def ask(verb):
    """Asks the lab's service host to start, stop or restart this node's service; its answer is the exit code. The
    request is one line on its FIFO, the answer comes on a pipe of ours it opens as /proc/<pid>/fd/<fd>."""
    env = node_env()
    try:
        with open(os.path.join(env["LAB_SHARE"], "service-host.pid")) as f:
            alive = host_alive(int(f.read().split()[0]))
    except (KeyError, OSError, ValueError, IndexError):
        alive = False
    if not alive:
        print(f"Failed to {verb} openvidu.service: the lab's service host is gone.", file=sys.stderr)
        return 1
    r, w = os.pipe()
    try:
        request = (f"{verb} {os.getpid()} {w} {env['LAB_NODE_ADDRESS']} {env['LAB_NODE_NAME']} "
                   f"{env['LAB_NODE_STATE']}\n")
        fifo = os.open(os.path.join(env["LAB_SHARE"], "service.fifo"), os.O_RDWR)
        try:
            os.write(fifo, request.encode())
        finally:
            os.close(fifo)
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = os.read(r, 64)
            if not chunk:
                break
            answer += chunk
        return int(answer.strip() or b"1")
    finally:
        os.close(r)
        os.close(w)


def epoch_ms(text):
    """Epoch seconds as the lab writes them (`1712345678.123`) in whole milliseconds; None if it is not such a number."""
    whole, _, fraction = text.strip().partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(whole) * 1000 + int((fraction + "000")[:3])


def now_ms():
    return int(time.time() * 1000)


def service_since_ms():
    """When the running service started (service.pid's second line; its mtime if it has none), or None."""
    try:
        with open(state("service.pid")) as f:
            lines = f.read().split("\n")
        since = epoch_ms(lines[1]) if len(lines) > 1 else None
        return since if since is not None else int(os.stat(state("service.pid")).st_mtime * 1000)
    except OSError:
        return None


def service_stopped_ms():
    """When the service last stopped (service.stopped), or None."""
    try:
        with open(state("service.stopped")) as f:
            return epoch_ms(f.read())
    except OSError:
        return None


def is_root():
    return os.geteuid() == 0


# ---- systemctl -----------------------------------------------------------------------------------------------------

def systemctl(args):
    flags = [a for a in args if a.startswith("-")]
    words = [a for a in args if not a.startswith("-")]
    quiet = "-q" in flags or "--quiet" in flags
    if not words:
        print("UNIT LOAD ACTIVE SUB DESCRIPTION")
        return 0
    verb, units = words[0], words[1:]
    now = "--now" in flags
    if verb == "daemon-reload":
        return 0 if is_root() else denied("reload daemon")
    if not units:
        print(f"Too few arguments.", file=sys.stderr)
        return 1
    status = 0
    for unit in units:
        status = max(status, systemctl_unit(verb, unit, quiet, now))
    return status


def denied(action):
    print(f"Failed to {action}: Interactive authentication required.", file=sys.stderr)
    return 1


def systemctl_unit(verb, unit, quiet, now=False):
    name = unit if unit.endswith(".service") else unit + ".service"
    if unit in ("docker", "docker.service"):
        # Docker is part of the machine here: always there, always running.
        if verb in ("is-active",):
            if not quiet:
                print("active")
            return 0
        if verb == "is-enabled":
            if not quiet:
                print("enabled")
            return 0
        if verb == "status":
            print("● docker.service - Docker Application Container Engine\n     Active: active (running)")
            return 0
        return 0 if is_root() else denied(f"{verb} docker.service")
    if unit not in UNIT_NAMES:
        if verb in ("is-active", "is-failed"):
            if not quiet:
                print("inactive")
            return 3
        if verb == "status":
            print(f"Unit {name} could not be found.", file=sys.stderr)
            return 4
        print(f"Failed to {verb} {name}: Unit {name} not found.", file=sys.stderr)
        return 5
    known = unit_exists()
    pid = service_pid()
    if verb == "is-active":
        if not quiet:
            print("active" if pid else "inactive")
        return 0 if pid else 3
    if verb == "is-enabled":
        if not known:
            print(f"Failed to get unit file state for {name}: No such file or directory", file=sys.stderr)
            return 1
        enabled = unit_enabled()
        if not quiet:
            print("enabled" if enabled else "disabled")
        return 0 if enabled else 1
    if verb == "is-failed":
        if not quiet:
            print("inactive" if not pid else "active")
        return 1
    if verb == "status":
        return status(name, known, pid)
    if verb in ("enable", "disable", "reenable"):
        if not is_root():
            return denied(f"{verb} unit")
        if not known:
            print(f"Failed to {verb} unit: Unit file {name} does not exist.", file=sys.stderr)
            return 1
        if verb in ("disable", "reenable"):
            disable_unit(quiet)
        if verb in ("enable", "reenable"):
            enable_unit(quiet)
        if now:  # --now: started or stopped as well
            return start_service(name) if verb != "disable" else stop_service(name)
        return 0
    if verb in ("start", "stop", "restart", "reload-or-restart", "try-restart"):
        if not is_root():
            return denied(f"{verb} {name}")
        if not known:
            if verb == "stop":
                print(f"Failed to stop {name}: Unit {name} not loaded.", file=sys.stderr)
            else:
                print(f"Failed to {verb} {name}: Unit {name} not found.", file=sys.stderr)
            return 5
        if verb == "start":
            return start_service(name)
        if verb == "stop":
            return stop_service(name)
        if verb == "try-restart" and not pid:
            return 0
        stop_service(name)
        return start_service(name)
    print(f"Unknown command verb {verb}.", file=sys.stderr)
    return 1


def status(name, known, pid):
    if not known:
        print(f"Unit {name} could not be found.", file=sys.stderr)
        return 4
    role = installed() or {}
    print(f"● {name} - OpenVidu HA {'Master' if role.get('ROLE') == 'master-node' else 'Media'} Node")
    print(f"     Loaded: loaded ({UNIT}; {'enabled' if unit_enabled() else 'disabled'}; preset: enabled)")
    if pid:
        since = time.strftime("%a %Y-%m-%d %H:%M:%S %Z", time.localtime((service_since_ms() or now_ms()) / 1000))
        print(f"     Active: active (running) since {since}")
        print(f"   Main PID: {pid} (docker-compose)")
    else:
        print("     Active: inactive (dead)")
    print()
    for line in tail_journal(10):
        print(line, end="")
    return 0 if pid else 3


def unit_enabled():
    """Enabled as systemd has it: the [Install] section's symlink (WantedBy=multi-user.target) exists."""
    return os.path.lexists(ROOT + WANTS)


def enable_unit(quiet):
    """systemctl enable: the symlink, and systemd's line (252 to 255) on stderr."""
    if unit_enabled():
        return
    os.makedirs(os.path.dirname(WANTS), exist_ok=True)
    os.symlink(UNIT, WANTS)
    if not quiet:
        print(f"Created symlink {WANTS} \u2192 {UNIT}.", file=sys.stderr)


def disable_unit(quiet):
    """systemctl disable: the symlink removed, and systemd's line (252 and later) on stderr."""
    if not unit_enabled():
        return
    os.unlink(WANTS)
    if not quiet:
        print(f'Removed "{WANTS}".', file=sys.stderr)


def start_service(name):
    if service_pid():
        return 0
    if ask("start") != 0:
        print(f"Job for {name} failed because the control process exited with error code.\n"
              f"See \"systemctl status {name}\" and \"journalctl -xeu {name}\" for details.", file=sys.stderr)
        return 1
    return 0


def stop_service(name):
    if not service_pid():
        return 0
    return ask("stop")


# ---- journalctl ----------------------------------------------------------------------------------------------------

def tail_journal(count):
    try:
        with open(state("journal.log")) as f:
            lines = f.readlines()
    except OSError:
        return []
    return lines[-count:] if count else lines


def journalctl(args):
    unit, count, i = None, 0, 0
    while i < len(args):
        a = args[i]
        if a in ("-u", "--unit") and i + 1 < len(args):
            unit, i = args[i + 1], i + 1
        elif a.startswith("--unit="):
            unit = a.split("=", 1)[1]
        elif a.startswith("-u") and len(a) > 2:
            unit = a[2:]
        elif a in ("-n", "--lines") and i + 1 < len(args):
            count, i = int(args[i + 1]), i + 1
        elif a.startswith("--lines="):
            count = int(a.split("=", 1)[1])
        elif a.startswith("-n") and a[2:].isdigit():
            count = int(a[2:])
        elif a in ("--since", "--until", "-o", "--output", "-p", "--priority") and i + 1 < len(args):
            i += 1
        i += 1
    lines = tail_journal(count) if unit in UNIT_NAMES else []
    if not lines:
        print("-- No entries --")
        return 0
    for line in lines:
        print(line, end="")
    return 0


# ---- docker --------------------------------------------------------------------------------------------------------

def human(seconds):
    seconds = int(seconds)
    if seconds < 1:
        return "Less than a second"
    if seconds < 60:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = seconds // 60
    if minutes < 2:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours < 2:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def container_names(inst):
    modules = [m for m in inst.get("MODULES", "").split(",") if m]
    if inst.get("ROLE") == "media-node":
        return ["openvidu", "ingress", "egress", "caddy", "prometheus", "promtail"]
    names = ["caddy", "dashboard", "redis-server", "redis-sentinel", "minio", "mongo", "operator"]
    if "v2compatibility" in modules:
        names.append("openvidu-v2compatibility")
    if "observability" in modules:
        names += ["grafana", "loki", "mimir", "promtail"]
    if "app" in modules:
        names.append("openvidu-call")
    if "openviduMeet" in modules:
        names.append("openvidu-meet")
    names.append("openvidu-init")
    return names


IMAGES = {
    "caddy": "openvidu/openvidu-pro-caddy", "dashboard": "openvidu/openvidu-pro-dashboard",
    "redis-server": "redis:7.4.4-alpine", "redis-sentinel": "redis:7.4.4-alpine", "minio": "openvidu/minio:2025.5.24",
    "mongo": "mongo:8.0.19",
    "operator": "openvidu/openvidu-operator", "openvidu-v2compatibility": "openvidu/openvidu-v2compatibility",
    "grafana": "grafana/grafana:11.6.2", "loki": "openvidu/grafana-loki:3.5.1", "mimir": "openvidu/grafana-mimir:2.16.0",
    "promtail": "grafana/promtail:3.5.1", "openvidu-call": "openvidu/openvidu-call", "openvidu-meet": "openvidu/openvidu-meet",
    "openvidu-init": "busybox:1.37.0", "openvidu": "openvidu/openvidu-server-pro", "ingress": "openvidu/ingress",
    "egress": "openvidu/egress", "prometheus": "prom/prometheus:v3.4.1",
}


def image(name, version):
    """OpenVidu's own images carry the OpenVidu version; third-party ones their own tag."""
    known = IMAGES.get(name, "openvidu/" + name)
    return known if ":" in known else f"{known}:{version}"


def restarting():
    """The restarting-container fault: (name, since in epoch ms), or (None, 0)."""
    try:
        with open(state("restarting-container")) as f:
            name, since = f.read().split()
    except (OSError, ValueError):
        return None, 0
    since_ms = epoch_ms(since)
    return (name, since_ms) if since_ms is not None else (None, 0)


def container_id(host, name):
    """A container's full ID, 64 hex digits as `docker ps --no-trunc` prints them, the same for a node's container
    every time (its first 12 are the short ID)."""
    return hashlib.sha256(f"{host}/{name}".encode()).hexdigest()


def containers():
    inst = installed()
    if not inst:
        return []
    now = now_ms()
    host = node_env().get("LAB_NODE_NAME", "node")
    version = inst.get("VERSION", "")
    try:
        created = int(os.stat(state("installed")).st_mtime * 1000)
    except OSError:
        created = now
    running = service_pid() is not None
    up_since = service_since_ms() or now
    stopped = service_stopped_ms() or now
    broken, broken_since = restarting()
    media_exit = media_server_exit() if inst.get("ROLE") == "media-node" else None
    names = container_names(inst)
    if broken and broken not in names:
        names.append(broken)

    def ago(since):  # whole seconds since then, never negative
        return max(0, now - since) // 1000

    result = []
    for name in names:
        full_id = container_id(host, name)
        c = {
            "ID": full_id[:12],
            "FullID": full_id,
            "Image": "docker.io/" + image(name, version),
            "Command": '"/entrypoint.sh"',
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(created // 1000)),
            "RunningFor": human(ago(created)) + " ago",
            "Names": name,
            "Ports": "",
            "Labels": f"com.docker.compose.project=openvidu,com.docker.compose.service={name}",
            "Mounts": "",
            "Networks": "host",
            "LocalVolumes": "0",
            "Size": "0B",
            "RestartCount": 0,
            "ExitCode": 0,
        }
        if name == MEDIA_SERVER and media_exit is not None:  # docker stop: exited on its own, before the rest if at all
            code, ended = media_exit
            c["State"], c["Status"], c["ExitCode"] = "exited", f"Exited ({code}) {human(ago(ended))} ago", code
        elif not running:
            started = os.path.exists(state("journal.log"))
            c["State"], c["Status"] = ("exited", f"Exited (0) {human(ago(stopped))} ago") if started else ("created", "Created")
        elif name == broken:
            elapsed = max(0, now - broken_since)
            c["State"], c["Status"] = "restarting", f"Restarting (1) {human(elapsed % 5000 // 1000)} ago"
            c["RestartCount"], c["ExitCode"] = 1 + elapsed // 5000, 1
        elif name == "openvidu-init":
            c["State"], c["Status"] = "exited", f"Exited (0) {human(ago(up_since))} ago"
        else:
            c["State"], c["Status"] = "running", f"Up {human(ago(up_since))}"
        result.append(c)
    return result


PS_KEYS = ["Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports",
           "RunningFor", "Size", "State", "Status"]
PS_HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
              "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "State": "STATE", "CreatedAt": "CREATED AT",
              "Service": "SERVICE", "Name": "NAME", "Labels": "LABELS", "Size": "SIZE", "Networks": "NETWORKS",
              "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES"}


def render(template, obj):
    """A small part of Go's text/template: {{json .}}, {{json .X}}, {{.X}}, {{.X.Y}}; \\t and \\n as docker reads them."""
    out, i = [], 0
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    while True:
        start = template.find("{{", i)
        if start < 0:
            out.append(template[i:])
            return "".join(out)
        end = template.find("}}", start)
        if end < 0:
            raise ValueError(f"template: unclosed action in {template!r}")
        out.append(template[i:start])
        expr = template[start + 2:end].strip()
        as_json = expr.startswith("json ")
        path = expr[5:].strip() if as_json else expr
        value = lookup(obj, path)
        if as_json:
            out.append(json.dumps(value, separators=(",", ":")))
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif value is None:
            out.append("<no value>")
        else:
            out.append(str(value))
        i = end + 2


def lookup(obj, path):
    if path == ".":
        return obj
    if not path.startswith("."):
        raise ValueError(f'template: function "{path.split()[0]}" not defined')
    value = obj
    for part in path[1:].split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ValueError(f"template: can't evaluate field {part}")
    return value


def table(rows, columns):
    widths = [max([len(PS_HEADERS.get(c, c))] + [len(str(r[c])) for r in rows]) for c in columns]
    lines = ["   ".join(PS_HEADERS.get(c, c).ljust(w) for c, w in zip(columns, widths)).rstrip()]
    for r in rows:
        lines.append("   ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)).rstrip())
    return lines


def docker_ps(args, compose=False):
    show_all, quiet, no_trunc, fmt, filters, i = False, False, False, None, [], 0
    while i < len(args):
        a = args[i]
        if a in ("-a", "--all"):
            show_all = True
        elif a == "--no-trunc":
            no_trunc = True
        elif a in ("-q", "--quiet"):
            quiet = True
        elif a == "--format" and i + 1 < len(args):
            fmt, i = args[i + 1], i + 1
        elif a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a in ("--filter", "-f") and i + 1 < len(args):
            filters.append(args[i + 1])
            i += 1
        elif a.startswith("--filter="):
            filters.append(a.split("=", 1)[1])
        elif a in ("-s", "--size"):
            pass
        elif a.startswith("-"):
            print(f"unknown flag: {a}\nSee 'docker ps --help'.", file=sys.stderr)
            return 125
        i += 1
    rows = [c for c in containers() if show_all or c["State"] in ("running", "restarting")]
    for f in filters:
        key, _, value = f.partition("=")
        if key == "name":
            rows = [c for c in rows if value in c["Names"]]
        elif key == "status":
            rows = [c for c in rows if c["State"] == value]
        else:
            print(f'Error response from daemon: invalid filter \'{key}\'', file=sys.stderr)
            return 1
    if no_trunc:  # full IDs (real docker also leaves the command whole; ours is short anyway)
        for c in rows:
            c["ID"] = c["FullID"]
    if compose:
        for c in rows:
            c["Name"], c["Service"] = c["Names"], c["Names"]
    if quiet:
        for c in rows:
            print(c["ID"])
        return 0
    if fmt in (None, "table") or (compose and fmt == "table"):
        columns = (["Name", "Image", "Command", "Service", "RunningFor", "Status", "Ports"] if compose
                   else ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"])
        print("\n".join(table(rows, columns)))
        return 0
    if compose and fmt == "json":
        fmt = "{{json .}}"
    try:
        if fmt.startswith("table "):
            body = fmt[6:]
            header = render(body, {k: PS_HEADERS.get(k, k) for k in PS_KEYS + ["Name", "Service"]})
            print(header)
            fmt = body
        for c in rows:
            obj = {k: c[k] for k in PS_KEYS + (["Name", "Service"] if compose else [])}
            print(render(fmt, obj))
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


def inspect_object(c):
    state = c["State"]
    return {
        "Id": c["FullID"],
        "Name": "/" + c["Names"],
        "RestartCount": c["RestartCount"],
        "State": {
            "Status": state,
            "Running": state in ("running", "restarting"),
            "Restarting": state == "restarting",
            "ExitCode": c["ExitCode"],
        },
        "Config": {"Image": c["Image"]},
        "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}, "NetworkMode": "host"},
    }


def docker_inspect(args):
    fmt, names, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--format") and i + 1 < len(args):
            fmt, i = args[i + 1], i + 1
        elif a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a.startswith("--type"):
            i += 0 if "=" in a else 1
        elif not a.startswith("-"):
            names.append(a)
        i += 1
    if not names:
        print('"docker inspect" requires at least 1 argument.', file=sys.stderr)
        return 1
    every = containers()
    found, missing = [], []
    for name in names:
        c = find_container(every, name)
        if c is None:
            missing.append(name)
        else:
            found.append(inspect_object(c))
    # Like docker: what was found first, then one error line per name that was not.
    if fmt is None:
        print(json.dumps(found, indent=4))
    else:
        try:
            for obj in found:
                print(render(fmt, obj))
        except ValueError as e:
            print(str(e), file=sys.stderr)
            return 1
    for name in missing:
        print(f"Error: No such object: {name}", file=sys.stderr)
    return 1 if missing else 0


def find_container(every, ref):
    """As docker looks a container up: its full ID, its name (`/name` too), else a prefix of one ID only (the short ID
    that `docker ps` prints is one)."""
    for c in every:
        if c["FullID"] == ref:
            return c
    name = ref[1:] if ref.startswith("/") else ref
    for c in every:
        if c["Names"] == name:
            return c
    if ref and all(ch in "0123456789abcdef" for ch in ref):
        matches = [c for c in every if c["FullID"].startswith(ref)]
        if len(matches) == 1:
            return matches[0]
    return None


# ---- the media server: LiveKit in the `openvidu` container of a media node ----------------------------------------------
#
# `docker stop [--time N] openvidu` as docker and LiveKit do it: docker sends SIGTERM, waits N seconds (10 by default,
# -1 for ever) for the container to exit, then SIGKILLs it (exit code 137). LiveKit on its first SIGTERM drains: it takes
# no new rooms and waits while participants remain ("waiting for participants to exit" every 5 s), then exits 0; a
# second SIGTERM (another docker stop, or the unit's docker compose down) makes it exit at once, 0, whatever it hosts.
# The lab's server hosts the rooms in the node's rooms file (one participant each): the wait is a poll of that file.
# The daemon, not the CLI, does the waiting (docker's stop outlives its client): a process of its own, detached, which
# the docker command waits for; killing the command (its SSH channel closed) leaves the drain to end on its own.

MEDIA_SERVER = "openvidu"
STOP_TIMEOUT = 10  # docker stop's default (OpenVidu's compose files set no stop_grace_period)
DRAIN_POLL = 0.1
DRAIN_LOG_EVERY = 5.0  # LiveKit's ticker


def read_fields(name):
    """A one-line lab state file of key=value words as a dict, or None when there is none."""
    try:
        with open(state(name)) as f:
            return dict(w.partition("=")[::2] for w in f.read().split())
    except OSError:
        return None


def write_state(name, text):
    with open(state(name) + ".tmp", "w") as f:
        f.write(text)
    os.replace(state(name) + ".tmp", state(name))


def append_state(name, line):
    with open(state(name), "a") as f:
        f.write(line + "\n")


def rooms():
    try:
        with open(state("rooms")) as f:
            text = f.read().strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0


def service_stamp():
    """The running service's start as service.pid's second line holds it (the run a media server exit belongs to), or
    None while the service is stopped."""
    if service_pid() is None:
        return None
    try:
        with open(state("service.pid")) as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    return lines[1].strip() if len(lines) > 1 and lines[1].strip() else None


def media_server_exit():
    """(exit code, when in epoch ms) of the media server's container when it exited on its own (docker stop) during the
    running service's run, or during the last run if the service stopped since; else None."""
    fields = read_fields("openvidu-exited")
    if not fields:
        return None
    stamp = service_stamp()
    if stamp is not None and fields.get("stamp") != stamp:
        return None  # an earlier run's (the service host removes it at every start)
    ended = epoch_ms(fields.get("ended", ""))
    code = fields.get("code", "")
    return (int(code), ended) if code.isdigit() and ended is not None else None


def pid_alive(text):
    try:
        os.kill(int(text), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True


def compose_log(text):
    """A line of docker compose's output (the unit's ExecStart, attached), which the journal gets."""
    try:
        with open(state("service.pid")) as f:
            pid = f.read().split()[0]
    except (OSError, IndexError):
        pid = "0"
    stamp = time.strftime("%b %d %H:%M:%S", time.localtime())
    try:
        append_state("journal.log", f"{stamp} {node_env().get('LAB_NODE_NAME', 'node')} docker-compose[{pid}]: {text}")
    except OSError:
        pass


def container_log(line):
    """A line of the media server's own output, as compose passes it on (`openvidu  | …`); `docker logs openvidu`
    shows them too."""
    now = time.time()
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    compose_log(f"{MEDIA_SERVER}  | {at}\t{line}")


def media_server_gone(stamp, waiter):
    """The container's exit is settled: its drain file is gone or another's (the service stopped or restarted: the
    service host recorded it), or the service's run is another."""
    drain = read_fields("drain")
    return not drain or drain.get("pid") != str(waiter) or service_stamp() != stamp


def drain_media_server(timeout, stamp, started, kill):
    """docker's stop and LiveKit's drain, in the detached waiter: returns the outcome once the container exited (and
    its ports closed), or "" when the service host ended it (the service stopped or restarted meanwhile)."""
    me = os.getpid()
    deadline = started + timeout if timeout >= 0 else None
    if not kill:
        container_log('INFO\tlivekit\texit requested, shutting down\t{"signal": "terminated", "force": false}')
    logged = started
    force = False
    while True:
        if media_server_gone(stamp, me):
            return ""
        now = time.time()
        hosted = rooms()
        try:
            with open(state("drain-force")) as f:
                sent = f.read().strip()
            kill = kill or sent == "KILL"
            if not force and not kill:
                container_log('INFO\tlivekit\texit requested, shutting down\t{"signal": "terminated", "force": true}')
            force = True
        except OSError:
            pass
        if hosted <= 0 and not kill:
            outcome, code = "drained", 0
        elif kill or (deadline is not None and now >= deadline):
            outcome, code = "killed", 137  # SIGKILL: 128 + 9
        elif force:
            outcome, code = "forced", 0  # LiveKit's second signal: Stop(force)
        else:
            if now - logged >= DRAIN_LOG_EVERY:
                logged += DRAIN_LOG_EVERY
                container_log("INFO\tlivekit\twaiting for participants to exit")
            time.sleep(DRAIN_POLL)
            continue
        break
    # Ours to end: claimed from the drain file (the service host's stop claims it the same way; one of us wins).
    claimed = state(f"drain.claimed-{me}")
    try:
        os.rename(state("drain"), claimed)
    except OSError:
        return ""
    drain = read_fields(os.path.basename(claimed)) or {}
    os.unlink(claimed)
    ended = time.time()
    cut = max(hosted, 0) if outcome != "drained" else 0
    if cut:
        write_state("rooms", "0\n")
        append_state("rooms-cut", f"at={ended:.3f} rooms={cut} by=docker-stop")
    write_state("openvidu-exited", f"code={code} ended={ended:.3f} stamp={stamp}\n")
    append_state("drains", f"timeout={drain.get('timeout', timeout)} started={drain.get('started', f'{started:.3f}')} "
                           f"ended={ended:.3f} outcome={outcome} rooms_cut={cut}")
    try:
        os.unlink(state("drain-force"))
    except FileNotFoundError:
        pass
    ask("ports")  # its ports close: the service host reads openvidu-exited
    compose_log(f"{MEDIA_SERVER} exited with code {code}")
    return outcome


def stop_media_server(timeout, kill):
    """Stops the running media server: starts its drain (a detached waiter) and waits for it; a second stop while one
    drains signals it again (forced exit, or a kill) and waits likewise."""
    stamp = service_stamp()
    drain = read_fields("drain")
    if drain and drain.get("stamp") == stamp and pid_alive(drain.get("pid", "")):
        write_state("drain-force", "KILL\n" if kill else "TERM\n")
        while not media_server_gone(stamp, drain.get("pid")):
            time.sleep(DRAIN_POLL)
        return
    if drain is not None:  # its waiter is gone (killed): nothing drains any more
        try:
            os.unlink(state("drain"))
        except FileNotFoundError:
            pass
    try:
        os.unlink(state("drain-force"))
    except FileNotFoundError:
        pass
    started = time.time()
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # The waiter is a grandchild in a session of its own, its parent gone at once: nobody's child in the node, so that
    # neither the command's end nor sshd's (StopSshAsync kills sshd's tree) ends the drain, as the daemon's goes on.
    middle = os.fork()
    if middle == 0:
        try:
            os.close(go_w)
            os.close(done_r)
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)  # never holds the SSH channel open
            if os.fork() == 0:
                os.write(done_w, f"{os.getpid()}\n".encode())
                if os.read(go_r, 1) == b"1":
                    outcome = drain_media_server(timeout, stamp, started, kill)
                    try:
                        os.write(done_w, outcome.encode())
                    except OSError:
                        pass  # the command is gone
        except Exception as e:  # noqa: BLE001 - said in the journal; the drain file names a dead waiter (stale)
            compose_log(f"ovha-lab: docker stop {MEDIA_SERVER} failed: {e!r}")
        finally:
            os._exit(0)
    os.close(go_r)
    os.close(done_w)
    os.waitpid(middle, 0)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(done_r, 1)
        if not chunk:
            raise RuntimeError("the drain's waiter did not start")
        line += chunk
    waiter = int(line)
    # The drain file names the waiter; made whole and at once (a link fails if another docker stop won the race).
    tmp = state(f"drain.new-{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(f"timeout={timeout} started={started:.3f} stamp={stamp} pid={waiter}\n")
    try:
        os.link(tmp, state("drain"))
    except FileExistsError:  # another docker stop started a drain meanwhile: ours is its second signal
        os.write(go_w, b"0")
        for fd in (go_w, done_r):
            os.close(fd)
        os.unlink(tmp)
        return stop_media_server(timeout, kill)
    os.unlink(tmp)
    os.write(go_w, b"1")
    os.close(go_w)
    while os.read(done_r, 64):
        pass


def start_media_server():
    """docker start of the media server that docker stop ended, while the service runs: it runs (and listens) again."""
    try:
        os.unlink(state("openvidu-exited"))
    except FileNotFoundError:
        pass
    container_log("INFO\tlivekit\tstarting LiveKit server")
    ask("ports")


def stop_flags(args, command):
    """docker stop|start's arguments: (timeout, kill, refs) or an exit code after docker's message."""
    timeout, kill, refs, i = STOP_TIMEOUT, False, [], 0
    while i < len(args):
        a = args[i]
        value = None
        if a == "--":
            refs += args[i + 1:]
            break
        if command == "stop" and (a in ("-t", "--time", "--timeout", "-s", "--signal")):
            if i + 1 >= len(args):
                name = f"'{a[1]}' in {a}" if not a.startswith("--") else a
                print(f"flag needs an argument: {name}\nSee 'docker {command} --help'.", file=sys.stderr)
                return 125
            value, i = args[i + 1], i + 1
            flag = a
        elif command == "stop" and a.startswith(("--time=", "--timeout=", "-t=", "--signal=", "-s=")):
            flag, _, value = a.partition("=")
        elif command == "stop" and a[:2] in ("-t", "-s") and len(a) > 2:
            flag, value = a[:2], a[2:]
        elif a.startswith("-") and a != "-":
            print(f"unknown flag: {a.split('=')[0]}\nSee 'docker {command} --help'.", file=sys.stderr)
            return 125
        else:
            refs.append(a)
        if value is not None:
            if flag in ("-s", "--signal"):
                sig = value.upper().removeprefix("SIG")
                if sig in ("KILL", "9"):
                    kill = True
                elif sig not in ("TERM", "15"):
                    print(f"Error response from daemon: OpenViduHa.Lab: docker stop --signal {value} is not simulated "
                          "(TERM or KILL)", file=sys.stderr)
                    return 1
            else:
                try:
                    timeout = int(value)
                except ValueError:
                    print(f'invalid argument "{value}" for "-t, --timeout" flag: strconv.ParseInt: parsing "{value}": '
                          f"invalid syntax\nSee 'docker {command} --help'.", file=sys.stderr)
                    return 125
        i += 1
    if not refs:
        usage = ("docker stop [OPTIONS] CONTAINER [CONTAINER...]\n\nStop one or more running containers" if command == "stop"
                 else "docker start [OPTIONS] CONTAINER [CONTAINER...]\n\nStart one or more stopped containers")
        print(f'"docker {command}" requires at least 1 argument.\nSee \'docker {command} --help\'.\n\nUsage:  {usage}',
              file=sys.stderr)
        return 1
    return timeout, kill, refs


def docker_stop_start(command, args):
    parsed = stop_flags(args, command)
    if isinstance(parsed, int):
        return parsed
    timeout, kill, refs = parsed
    if not is_root():
        print("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
              f'Post "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/containers/{refs[0]}/{command}": dial unix '
              "/var/run/docker.sock: connect: permission denied", file=sys.stderr)
        return 1
    media_node = (installed() or {}).get("ROLE") == "media-node"
    errors = []
    for ref in refs:
        c = find_container(containers(), ref)
        if c is None:
            errors.append(f"Error response from daemon: No such container: {ref}")
            continue
        running = c["State"] in ("running", "restarting")
        if command == "stop" and not running or command == "start" and running:
            print(ref, flush=True)  # docker: stopping a stopped container (starting a running one) changes nothing
            continue
        if c["Names"] != MEDIA_SERVER or not media_node or service_pid() is None:
            errors.append(f"Error response from daemon: OpenViduHa.Lab: docker {command} {ref} is not simulated (only "
                          f"the media server, {MEDIA_SERVER} on a media node, while the openvidu service runs; "
                          f"systemctl {command} openvidu {command}s every container)")
            continue
        if command == "stop":
            stop_media_server(timeout, kill)
        else:
            start_media_server()
        print(ref, flush=True)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        if command == "start":
            print(f"Error: failed to start containers: {', '.join(refs)}", file=sys.stderr)
        return 1
    return 0


def docker(args):
    if not args or args[0] in ("-h", "--help", "help"):
        print("Usage:  docker [OPTIONS] COMMAND (OpenViduHa.Lab stand-in: ps, inspect, logs, info, version, compose ps, "
              "stop, start)")
        return 0
    command, rest = args[0], args[1:]
    if command in ("--version", "-v"):
        print("Docker version 29.4.2, build ovha-lab")
        return 0
    if command == "version":
        print("Client:\n Version:           29.4.2\n\nServer:\n Engine:\n  Version:          29.4.2")
        return 0
    if command == "info":
        running = sum(1 for c in containers() if c["State"] == "running")
        print(f"Client:\n Version:    29.4.2\n\nServer:\n Containers: {len(containers())}\n  Running: {running}\n"
              f" Server Version: 29.4.2\n Storage Driver: overlay2")
        return 0
    if command in ("ps", "container") and (command == "ps" or rest[:1] in (["ls"], ["ps"], ["list"])):
        return docker_ps(rest if command == "ps" else rest[1:])
    if command == "inspect" or (command == "container" and rest[:1] == ["inspect"]):
        return docker_inspect(rest if command == "inspect" else rest[1:])
    if command == "logs":
        names = [a for a in rest if not a.startswith("-")]
        by_name = {c["Names"]: c for c in containers()}
        if not names or names[-1] not in by_name:
            print(f"Error response from daemon: No such container: {names[-1] if names else ''}", file=sys.stderr)
            return 1
        c = by_name[names[-1]]
        if c["State"] == "restarting":
            print(f"{c['Names']}: error: invalid configuration (OpenViduHa.Lab fault: this container keeps restarting)",
                  file=sys.stderr)
        else:
            print(f"{c['Names']}: started (OpenViduHa.Lab stand-in)")
            if c["Names"] == MEDIA_SERVER:  # what the media server said since (its drain), as the journal has it
                marker = f" {MEDIA_SERVER}  | "
                for line in tail_journal(0):
                    if marker in line:
                        print(line.split(marker, 1)[1], end="")
        return 0
    if command == "compose" and "ps" in rest:
        return docker_ps([a for a in rest[rest.index("ps") + 1:]], compose=True)
    if command in ("stop", "start") or (command == "container" and rest[:1] in (["stop"], ["start"])):
        return docker_stop_start(command if command != "container" else rest[0], rest if command != "container" else rest[1:])
    print(f"docker: '{command}' is not a docker command (OpenViduHa.Lab stand-in).\nSee 'docker --help'", file=sys.stderr)
    return 1


def main():
    name = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    if name == "node.py" and args:
        name, args = args[0], args[1:]
    if name == "systemctl":
        return systemctl(args)
    if name == "docker":
        return docker(args)
    if name == "journalctl":
        return journalctl(args)
    print(f"{name}: not an OpenViduHa.Lab stand-in", file=sys.stderr)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(141)
