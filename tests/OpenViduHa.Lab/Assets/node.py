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
"""

import hashlib
import json
import os
import sys
import time

STATE = "/usr/local/lib/ovha-lab"
UNIT = "/etc/systemd/system/openvidu.service"
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
    if verb == "daemon-reload":
        return 0 if is_root() else denied("reload daemon")
    if not units:
        print(f"Too few arguments.", file=sys.stderr)
        return 1
    status = 0
    for unit in units:
        status = max(status, systemctl_unit(verb, unit, quiet))
    return status


def denied(action):
    print(f"Failed to {action}: Interactive authentication required.", file=sys.stderr)
    return 1


def systemctl_unit(verb, unit, quiet):
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
        if not quiet:
            print("enabled")
        return 0
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
    print(f"     Loaded: loaded ({UNIT}; enabled; preset: enabled)")
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
        if not running:
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


def docker(args):
    if not args or args[0] in ("-h", "--help", "help"):
        print("Usage:  docker [OPTIONS] COMMAND (OpenViduHa.Lab stand-in: ps, inspect, logs, info, version, compose ps)")
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
        return 0
    if command == "compose" and "ps" in rest:
        return docker_ps([a for a in rest[rest.index("ps") + 1:]], compose=True)
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
