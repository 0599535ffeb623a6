"""OpenViduHa.Lab supervisor: owns every process of one lab and kills them all when the lab ends.

Started by Lab.StartAsync as
`/usr/bin/python3 -I -u supervisor.py <lab-dir> <lab-id> <keep-files 0|1> <id-lock-file> [sshd args]` with a pipe on stdin. One command per line, one answer per line (`ok [value]` or `error <message>`):

  boot <k>:<host-name>:<node-dir> ... make each node's namespaces (mount + UTS), mount its file system, answer the
                                    pids of the processes holding them (forks of this one, asleep, whose
                                    /proc/<pid>/comm is ovha-lab-<id>-<k>, cut at 15 characters)
  sshd-start <address>=<k> ...      start each node's sshd inside its namespaces; answer once every one listens
  sshd-stop <k>                     kill node k's sshd, every connection it serves and every command they run
  power-off <k>                     the same, then every other process in node k's namespaces (its holder stays)
  teardown                          kill everything in every node's namespaces, delete the lab dir, exit

End of stdin (the test process died, however it died), SIGTERM, SIGINT and SIGHUP tear the lab down the same way.
Single-threaded on purpose: it forks, and the children call unshare/setns/mount before they exec.

Every node's openvidu service (its listeners) lives in one process of the lab, the service host: a fork of this one
made at start (before any other child), named ovha-svc-<id>, killed with the supervisor (PR_SET_PDEATHSIG) and at
teardown. See ServiceHost.
"""

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import importlib.util
import io
import os
import resource
import select
import selectors
import shutil
import signal
import socket
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1

SSHD = "/usr/sbin/sshd"
SSHD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

# Node paths backed by the node's own directories (<node-dir>/fs/<source>), bound over the machine's. /etc is an
# overlay instead: the machine's /etc below, the node's changes (users, sudoers, sshd, systemd unit) in
# <node-dir>/fs/etc; its sudoers.d is the node's alone. /var/lib/sudo (sudo's lecture state) only where it exists.
BINDS = {"/root": "root", "/home": "home", "/opt": "opt", "/tmp": "tmp", "/run": "run", "/var/log": "var/log",
         "/usr/local": "usr/local", "/etc/sudoers.d": "sudoers.d"}
OPTIONAL_BINDS = {"/var/lib/sudo": "var/lib/sudo"}

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.unshare.argtypes = [ctypes.c_int]
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
prctl_number = ctypes.CDLL(None, use_errno=True).prctl  # the same call with a number, not a name, as its argument
prctl_number.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    _check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


class Node:
    def __init__(self, k, directory, host_name):
        self.k = k
        self.directory = directory
        self.host_name = host_name
        self.holder = 0
        self.namespace = ""
        self.address = ""
        self.sshd = 0


class Supervisor:
    def __init__(self, lab_dir, lab_id, keep_files):
        self.lab_dir = lab_dir
        self.lab_id = lab_id
        self.keep_files = keep_files
        self.nodes = {}
        self.exited = {}
        self.sshd_args = []
        self.done = False
        self.service_host = 0

    # ---- the service host -----------------------------------------------------------------------------------------

    def start_service_host(self):
        """Forks the service host (see ServiceHost) while this process is still alone: before any node exists."""
        share = os.path.join(self.lab_dir, "share")
        fifo = os.path.join(share, "service.fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo, 0o600)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                os.setsid()
                _check(prctl_number(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
                if os.getppid() != parent:
                    os._exit(0)
                self._child_stdio(os.path.join(self.lab_dir, "service-host.log"))
                _check(libc.prctl(PR_SET_NAME, f"ovha-svc-{self.lab_id}".encode()[:15], 0, 0, 0), "prctl")
                ServiceHost(fifo, os.path.join(share, "node.py")).run()
            except BaseException as e:  # noqa: BLE001 - never return into the supervisor's loop
                try:
                    os.write(2, f"service host failed: {e!r}\n".encode())
                finally:
                    os._exit(1)
        self.service_host = pid
        with open(os.path.join(share, "service-host.pid"), "w") as f:
            f.write(f"{pid}\n")

    # ---- children -------------------------------------------------------------------------------------------------

    def _child_stdio(self, log_path=None):
        devnull = os.open("/dev/null", os.O_RDWR)
        out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log_path else devnull
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)

    def boot(self, specs):
        """Boots nodes given as <k>:<host-name>:<node-dir>, all forked first so that they mount in parallel."""
        pending = []
        for spec in specs:
            k, host_name, directory = spec.split(":", 2)
            node = Node(int(k), directory, host_name)
            pending.append((node, self._fork_holder(node)))
        pids, failures = [], []
        for node, (pid, read_end) in pending:
            answer = b""
            while chunk := os.read(read_end, 4096):
                answer += chunk
            os.close(read_end)
            text = answer.decode(errors="replace").strip()
            if text:
                failures.append(text)
                continue
            try:
                node.namespace = os.readlink(f"/proc/{pid}/ns/mnt")
            except OSError:
                failures.append(f"node {node.k}: its namespace holder died at start")
                continue
            node.holder = pid
            self.nodes[node.k] = node
            pids.append(str(pid))
        if failures:
            raise RuntimeError("; ".join(failures))
        return " ".join(pids)

    def _fork_holder(self, node):
        fs = os.path.join(node.directory, "fs")
        for source in list(BINDS.values()) + list(OPTIONAL_BINDS.values()):
            os.makedirs(os.path.join(fs, source), exist_ok=True)
        os.makedirs(os.path.join(node.directory, "work", "etc"), exist_ok=True)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                os.setsid()
                _check(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare")
                _mount("none", "/", None, MS_REC | MS_PRIVATE)
                _mount("overlay", "/etc", "overlay", 0,
                       f"lowerdir=/etc,upperdir={fs}/etc,workdir={node.directory}/work/etc")
                for target, source in BINDS.items():
                    os.makedirs(target, exist_ok=True)  # only /etc/sudoers.d may be missing: made in the overlay
                    _mount(os.path.join(fs, source), target, None, MS_BIND)
                for target, source in OPTIONAL_BINDS.items():
                    if os.path.isdir(target):
                        _mount(os.path.join(fs, source), target, None, MS_BIND)
                name = node.host_name.encode()
                _check(libc.sethostname(name, len(name)), "sethostname")
                self._child_stdio()
                # The holder stays this forked python, asleep (an exec costs more than the rest of a node's boot here).
                # /proc/<pid>/comm names it ovha-lab-<id>-<k> (cut at 15 characters) so a later lab can find leftovers.
                name = f"ovha-lab-{self.lab_id}-{node.k}".encode()[:15]
                _check(libc.prctl(PR_SET_NAME, name, 0, 0, 0), "prctl")
                os.close(write_end)  # nothing written: the parent reads an empty answer, success
                while True:
                    signal.pause()
            except BaseException as e:  # noqa: BLE001 - report anything to the parent, never return into its loop
                try:
                    os.write(write_end, f"error node {node.k}: {e}\n".encode())
                finally:
                    os._exit(1)
        os.close(write_end)
        return pid, read_end

    def sshd_start(self, pairs):
        started = []
        for pair in pairs:
            address, k = pair.split("=")
            node = self.nodes[int(k)]
            node.address = address
            if node.sshd and self._alive(node.sshd):
                continue
            if not self._alive(node.holder):
                raise RuntimeError(f"node {node.k}: its namespace holder (pid {node.holder}) is gone")
            log = os.path.join(node.directory, "sshd.log")
            pid = os.fork()
            if pid == 0:
                try:
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                        signal.signal(sig, signal.SIG_DFL)
                    os.setsid()
                    self._child_stdio(log)
                    for ns, flag in (("mnt", CLONE_NEWNS), ("uts", CLONE_NEWUTS)):
                        fd = os.open(f"/proc/{node.holder}/ns/{ns}", os.O_RDONLY)
                        _check(libc.setns(fd, flag), f"setns {ns}")
                        os.close(fd)
                    os.chdir("/")
                    os.execve(SSHD, [SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"] + self.sshd_args, SSHD_ENV)
                except BaseException as e:  # noqa: BLE001
                    try:
                        os.write(2, f"sshd start failed: {e}\n".encode())
                    finally:
                        os._exit(1)
            node.sshd = pid
            started.append(node)
        deadline = time.monotonic() + 20
        waiting = list(started)
        while waiting:
            self._reap()
            listening = self._listening_ssh()
            for node in list(waiting):
                if node.sshd in self.exited:
                    raise RuntimeError(f"sshd of node {node.k} exited: {self._tail(node)}")
                if node.address in listening:
                    waiting.remove(node)
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("sshd not listening after 20 s on " + ", ".join(n.address for n in waiting))
            time.sleep(0.02)
        return ""

    def sshd_stop(self, k):
        node = self.nodes[k]
        if not node.sshd:
            return ""
        victims = self._descendants(node.sshd)
        for pid in victims:
            self._kill(pid)
        self._wait_gone(victims)
        node.sshd = 0
        return ""

    def power_off(self, k):
        """Node k's machine goes off: sshd and its sessions, then whatever else runs in its namespaces (background jobs,
        commands run through nsenter). The holder stays: the namespaces and the node's files live on."""
        node = self.nodes[k]
        self.sshd_stop(k)
        for _ in range(10):
            victims = [pid for pid, ns in self._namespaces()
                       if ns == node.namespace and pid != node.holder and self._alive(pid)]
            if not victims:
                break
            for pid in victims:
                self._kill(pid)
            self._wait_gone(victims, timeout=5)
        return ""

    # ---- teardown -------------------------------------------------------------------------------------------------

    def teardown(self):
        """Kills everything in the nodes' namespaces, holders last: while a holder lives, its namespace cannot end and
        its number (mnt:[N]) cannot be handed to another lab's new namespace, so matching on it is safe."""
        if self.service_host:
            self._kill(self.service_host)
            self._wait_gone([self.service_host], timeout=5)
            self.service_host = 0
        holders = {n.holder for n in self.nodes.values() if n.holder and self._alive(n.holder)}
        namespaces = {n.namespace for n in self.nodes.values() if n.holder in holders}
        for _ in range(10):
            victims = [pid for pid, ns in self._namespaces() if ns in namespaces and pid not in holders]
            victims += [n.sshd for n in self.nodes.values() if n.sshd]
            victims = [pid for pid in set(victims) if self._alive(pid)]
            if not victims:
                break
            for pid in victims:
                self._kill(pid)
            self._wait_gone(victims, timeout=5)
        for pid in holders:
            self._kill(pid)
        self._wait_gone(list(holders), timeout=5)
        for node in self.nodes.values():
            node.holder = node.sshd = 0
        if not self.keep_files:
            shutil.rmtree(self.lab_dir, ignore_errors=True)

    # ---- helpers --------------------------------------------------------------------------------------------------

    def _reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exited[pid] = status

    def _alive(self, pid):
        self._reap()
        if pid in self.exited:
            return False
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False

    @staticmethod
    def _kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _wait_gone(self, pids, timeout=10.0):
        deadline = time.monotonic() + timeout
        while any(self._alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.005)

    @staticmethod
    def _processes():
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                yield int(entry)

    def _namespaces(self):
        for pid in self._processes():
            try:
                yield pid, os.readlink(f"/proc/{pid}/ns/mnt")
            except OSError:
                pass

    def _descendants(self, root):
        children = {}
        for pid in self._processes():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(pid)
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    @staticmethod
    def _listening_ssh():
        """Addresses with a socket listening on port 22, from /proc/net/tcp (no connection made, nothing logged)."""
        found = set()
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state != "0A":
                    continue
                host, port = local.split(":")
                if port == "0016":
                    found.add(socket.inet_ntoa(bytes.fromhex(host)[::-1]))
        return found

    @staticmethod
    def _tail(node):
        try:
            with open(os.path.join(node.directory, "sshd.log"), errors="replace") as f:
                return f.read()[-2000:].strip() or "(no output)"
        except OSError:
            return "(no log)"


# ---- the nodes' openvidu services --------------------------------------------------------------------------------------

# Every TCP port the product's firewall rules (src/OpenViduHa.Core/Artifacts/FirewallArtifact.cs) can name for the role,
# whatever the generation and modules; 7880 answers HTTP (and WebSocket), the others write a one-line banner naming the
# node and the port, then echo what they get. (Media's TCP 50000-60000, WebRTC over TCP, is left out: ten thousand
# sockets a node.)
MASTER_PORTS = (7880, 1945, 5349, 7946, 7947, 9095, 9096, 3100, 9009, 4443, 6080, 7000, 7001, 9100, 20000, 3000, 5000,
                9101, 9080)
MEDIA_PORTS = (7880, 7881, 1935, 5349, 8080)
HTTP_PORT = 7880
# LiveKit's Prometheus port on a media node (its prometheus_port): no firewall rule names it (the node's own prometheus
# container scrapes it), but the panel asks it for the rooms a draining node still hosts. HTTP, like 7880.
METRICS_PORT = 6789
HTTP_PORTS = (HTTP_PORT, METRICS_PORT)
# What the media server's container (`openvidu`: LiveKit) serves itself, so what goes when it exits (`docker stop`)
# while the service, docker compose, runs on: its API and health (7880), its WebRTC over TCP (7881), its metrics.
MEDIA_SERVER_PORTS = (HTTP_PORT, 7881, METRICS_PORT)


class Service:
    """One node's running openvidu service: its listening sockets by port, and when it started (service.pid's second
    line, as written: the stamp node.py's docker stop ties the media server's exit to)."""

    def __init__(self, state, host_name, master, started):
        self.state = state
        self.host_name = host_name
        self.master = master
        self.started = started
        self.sockets = {}
        # LiveKit names itself anew at every start (ND_ and 12 letters or digits); the lab derives it from the start.
        digest = hashlib.sha256(f"{host_name} {started}".encode()).digest()
        self.node_id = "ND_" + "".join(NODE_ID_LETTERS[b % len(NODE_ID_LETTERS)] for b in digest[:12])

    @property
    def ports(self):
        return MASTER_PORTS if self.master else MEDIA_PORTS + (METRICS_PORT,)

    def media_server_exited(self):
        """Whether the media server's container exited (docker stop) during this run of the service: node.py writes
        openvidu-exited with this run's stamp; a start removes it."""
        if self.master:
            return False
        try:
            with open(os.path.join(self.state, "openvidu-exited")) as f:
                fields = dict(w.partition("=")[::2] for w in f.read().split())
        except OSError:
            return False
        return fields.get("stamp") == self.started

    def rooms(self):
        return read_count(os.path.join(self.state, "rooms"))


NODE_ID_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def read_count(path):
    """A lab state file holding a count (rooms): 0 when missing or not a number."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0


class Connection:
    """An accepted connection the host still serves: an HTTP request being read, an echo, or a WebSocket."""

    __slots__ = ("kind", "service", "port", "data", "deadline")

    def __init__(self, kind, service, port, deadline):
        self.kind = kind  # "http", "echo" or "websocket"
        self.service = service
        self.port = port
        self.data = b""  # the request head so far (http), or frame bytes not yet complete (websocket)
        self.deadline = deadline


class ServiceHost:
    """Every node's openvidu service in one event loop: the role's ports listening on the node's address (all nodes
    share the machine's network namespace, so one process can bind them all), 7880 answering HTTP.

    So that a test sees who answered through a load balancer: every other port writes `ovha-lab <node> <port>\n` on
    accept, then echoes what it receives until the peer closes (a port check that connects and closes costs the
    accept and one send). 7880's answers carry X-Lab-Node and echo the request's Host, X-Forwarded-For,
    X-Forwarded-Proto and X-Real-IP as X-Lab-Host, X-Lab-Forwarded-For, …; a WebSocket upgrade (`Upgrade: websocket`)
    gets `101 Switching Protocols` with the same headers, then its messages echoed. A media node's 6789 is LiveKit's
    Prometheus endpoint (livekit_room_total from the node's rooms file); its 7880, 7881 and 6789 close while its media
    server's container has exited (docker stop) and the service runs on.

    The nodes' stand-ins and the lab (LabNode) ask over a FIFO, <lab>/share/service.fifo, one line per request (shorter
    than PIPE_BUF, so concurrent writers never interleave):
      <verb> <pid> <fd> <node address> <node host name> <node state dir, host path> [<argc>]
    and the answer goes to /proc/<pid>/fd/<fd>: a pipe the asker holds open read-write and reads from. Verbs:
      start, stop, restart  (systemctl.sh, LabNode) the exit code and a newline, once the ports listen or are closed
      ports                 (LabNode, node.py's docker stop|start) apply the node's closed-ports fault file and its
                            media server's exit (openvidu-exited) now; the exit code and a newline
      docker                (docker.sh) run node.py's docker code with the asker's last <argc> arguments, read from
                            /proc/<pid>/cmdline, and the node's files seen through /proc/<pid>/root; the answer is sh
                            that prints its output and exits with its code
    The host keeps a node's state dir up to date as the stand-ins read it: service.pid (this process's pid, then the
    start time), service.stopped (the last stop's time), journal.log; at a media node's stop, rooms (cut: rooms-cut),
    a drain under way (ended: drains) and openvidu-exited. It reads the node's closed-ports (the ports it does not
    listen on) and openvidu-exited at every start and at `ports`.
    """

    HTTP_LIMIT = 65536
    HTTP_TIMEOUT = 10.0
    IDLE_TIMEOUT = 60.0  # an echo or a WebSocket that stays quiet this long is closed
    FRAME_LIMIT = 1 << 20
    WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    ECHOED_HEADERS = (("host", "X-Lab-Host"), ("x-forwarded-for", "X-Lab-Forwarded-For"),
                      ("x-forwarded-proto", "X-Lab-Forwarded-Proto"), ("x-real-ip", "X-Lab-Real-IP"))
    ANSWER_LIMIT = 60000  # a docker answer larger than this (a pipe holds 64 KiB) has docker.sh run node.py itself

    def __init__(self, fifo, node_script):
        self.fifo = fifo
        self.node_script = node_script
        self.node = None  # node.py, loaded at the first docker request
        self.selector = selectors.DefaultSelector()
        self.services = {}  # address -> Service
        self.pending = {}  # socket -> Connection
        self.buffer = b""

    def run(self):
        self.raise_file_limit()
        control = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)  # read-write: never an end of file, never blocks
        self.selector.register(control, selectors.EVENT_READ, ("control", None))
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                kind, data = key.data
                if kind == "control":
                    self.control(key.fd)
                elif kind == "listen":
                    self.accept(key.fileobj, *data)
                else:
                    self.read(key.fileobj)
            self.expire()

    @staticmethod
    def raise_file_limit():
        """Up to 19 listening sockets a node, for every node of the lab: the soft limit on open files goes to the hard
        one (1024 by default is 53 masters)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY:
            with open("/proc/sys/fs/nr_open") as f:
                hard = int(f.read())
        if soft == resource.RLIM_INFINITY or soft >= hard:
            return
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError) as e:
            os.write(2, f"service host: cannot raise the open files limit from {soft} to {hard}: {e}\n".encode())

    # ---- requests -----------------------------------------------------------------------------------------------------

    def control(self, fd):
        try:
            self.buffer += os.read(fd, 65536)
        except BlockingIOError:
            return
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            words = line.decode(errors="replace").split()
            if len(words) == 7 and words[0] == "docker":
                _, pid, reply_fd, address, host_name, state, argc = words
                answer = self.docker(pid, argc)
            elif len(words) == 6:
                verb, pid, reply_fd, address, host_name, state = words
                try:
                    code = self.handle(verb, address, host_name, state)
                except Exception as e:  # noqa: BLE001 - a request never ends the host
                    self.journal(state, host_name, f"ovha-lab: {verb} failed: {e}")
                    code = 1
                answer = f"{code}\n".encode()
            else:
                continue
            self.reply(pid, reply_fd, answer)

    @staticmethod
    def reply(pid, reply_fd, answer):
        try:
            out = os.open(f"/proc/{int(pid)}/fd/{int(reply_fd)}", os.O_WRONLY | os.O_NONBLOCK)
        except (OSError, ValueError):
            return  # the asker is gone
        try:
            deadline = time.monotonic() + 2.0
            while answer:
                try:
                    answer = answer[os.write(out, answer):]
                except BlockingIOError:
                    # The pipe is full (an answer is at most ANSWER_LIMIT, a pipe 64 KiB: should not happen); the asker
                    # reads as it comes. Waited for briefly, never for long: every node's service shares this loop.
                    left = deadline - time.monotonic()
                    writable = select.poll()  # not select(): this process's descriptors go past 1024
                    writable.register(out, select.POLLOUT)
                    if left <= 0 or not writable.poll(left * 1000):
                        break
        except OSError:
            pass  # the asker is gone
        finally:
            os.close(out)

    def handle(self, verb, address, host_name, state):
        name = "openvidu.service"
        if verb == "ports":
            return self.apply_ports(address)
        if verb in ("stop", "restart") and address in self.services:
            self.journal(state, host_name, f"systemd[1]: Stopping {name} - OpenVidu...")
            self.stop(address)
            self.journal(state, host_name, f"systemd[1]: Stopped {name} - OpenVidu.")
        if verb == "stop":
            return 0
        if verb not in ("start", "restart"):
            return 1
        if address in self.services:
            return 0
        self.journal(state, host_name, f"systemd[1]: Starting {name} - OpenVidu...")
        role = self.role(state)
        if role is None:
            self.journal(state, host_name, f"openvidu[{os.getpid()}]: openvidu: not installed")
            return self.failed(state, host_name, name)
        service = Service(state, host_name, role == "master-node", f"{time.time():.3f}")
        # A new run of docker compose: every container starts, the media server one that docker stop ended included.
        self.remove(state, "openvidu-exited", "drain-force")
        self.services[address] = service
        if not self.listen(address, service):
            self.services.pop(address)
            self.close_all(service)
            return self.failed(state, host_name, name)
        pid_file = os.path.join(state, "service.pid")
        with open(pid_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n{service.started}\n")
        os.replace(pid_file + ".tmp", pid_file)
        self.journal(state, host_name,
                     f"openvidu[{os.getpid()}]: listening on {address}: {', '.join(map(str, service.sockets))}")
        self.journal(state, host_name, f"systemd[1]: Started {name} - OpenVidu.")
        return 0

    def failed(self, state, host_name, name):
        self.journal(state, host_name, f"systemd[1]: {name}: Main process exited, code=exited, status=1/FAILURE")
        self.journal(state, host_name, f"systemd[1]: Failed to start {name} - OpenVidu.")
        return 1

    def listen(self, address, service):
        """Opens the service's ports that are not closed (fault) and closes the ones that are; False when 7880 cannot
        listen. Another port that is taken (another program listening on it on every address of the machine) is
        logged and left: a connection to it succeeds all the same."""
        closed = self.closed_ports(service.state)
        if service.media_server_exited():
            # The process behind those ports is gone: their connections (a WebSocket on 7880) end with it.
            closed |= set(MEDIA_SERVER_PORTS)
            for conn in [c for c, p in self.pending.items() if p.service is service and p.port in MEDIA_SERVER_PORTS]:
                self.close(conn)
        wanted = [p for p in service.ports if p not in closed]
        for port in [p for p in service.sockets if p not in wanted]:
            server = service.sockets.pop(port)
            self.selector.unregister(server)
            server.close()
        for port in [p for p in wanted if p not in service.sockets]:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                server.bind((address, port))
                server.listen(128)
                server.setblocking(False)
            except OSError as e:
                server.close()
                self.journal(service.state, service.host_name, f"openvidu[{os.getpid()}]: {address}:{port}: {e}")
                if port == HTTP_PORT:
                    return False
                continue
            service.sockets[port] = server
            self.selector.register(server, selectors.EVENT_READ, ("listen", (service, port)))
        return True

    def apply_ports(self, address):
        """The closed-ports fault file and the media server's exit (docker stop), applied to a running service now."""
        service = self.services.get(address)
        if service is None:
            return 0  # takes effect at the next start
        return 0 if self.listen(address, service) else 1

    @staticmethod
    def closed_ports(state):
        try:
            with open(os.path.join(state, "closed-ports")) as f:
                return {int(p) for p in f.read().split() if p.isdigit()}
        except OSError:
            return set()

    def stop(self, address):
        service = self.services.pop(address)
        self.close_all(service)
        if not service.master:
            self.media_server_stopped(service)
        with open(os.path.join(service.state, "service.stopped.tmp"), "w") as f:
            f.write(f"{time.time():.3f}\n")
        os.replace(os.path.join(service.state, "service.stopped.tmp"), os.path.join(service.state, "service.stopped"))
        try:
            os.unlink(os.path.join(service.state, "service.pid"))
        except FileNotFoundError:
            pass

    def media_server_stopped(self, service):
        """docker compose down (the unit's stop) stops the media server with the rest. A drain under way (docker stop
        waiting for its rooms) ends here: compose's SIGTERM is LiveKit's second, which makes it exit at once, so the
        drain is recorded `forced`. Rooms still hosted are cut (the lab's stop is immediate: the real compose down would
        give them 10 s, then kill). A media server that had exited during this run keeps its exit (docker ps shows it);
        one from an earlier run is forgotten."""
        state, now = service.state, time.time()
        rooms = service.rooms()
        try:
            claimed = os.path.join(state, f"drain.claimed-{os.getpid()}")
            os.rename(os.path.join(state, "drain"), claimed)  # the drain is ours to end, not its waiter's
            with open(claimed) as f:
                drain = dict(w.partition("=")[::2] for w in f.read().split())
            os.unlink(claimed)
            self.append(state, "drains", f"timeout={drain.get('timeout', '10')} started={drain.get('started', f'{now:.3f}')} "
                                         f"ended={now:.3f} outcome=forced rooms_cut={rooms}")
        except OSError:
            pass
        if rooms:
            self.append(state, "rooms-cut", f"at={now:.3f} rooms={rooms} by=service-stop")
            with open(os.path.join(state, "rooms.tmp"), "w") as f:
                f.write("0\n")
            os.replace(os.path.join(state, "rooms.tmp"), os.path.join(state, "rooms"))
        self.remove(state, "drain-force")
        if not service.media_server_exited():
            self.remove(state, "openvidu-exited")

    @staticmethod
    def remove(state, *names):
        for name in names:
            try:
                os.unlink(os.path.join(state, name))
            except FileNotFoundError:
                pass

    @staticmethod
    def append(state, name, line):
        with open(os.path.join(state, name), "a") as f:
            f.write(line + "\n")

    def close_all(self, service):
        for server in service.sockets.values():
            self.selector.unregister(server)
            server.close()
        service.sockets.clear()
        for conn in [c for c, p in self.pending.items() if p.service is service]:
            self.close(conn)

    @staticmethod
    def role(state):
        try:
            with open(os.path.join(state, "installed")) as f:
                for line in f:
                    key, _, value = line.strip().partition("=")
                    if key == "ROLE" and value:
                        return value.strip("'\"")
        except OSError:
            pass
        return None

    @staticmethod
    def journal(state, host_name, message):
        stamp = time.strftime("%b %d %H:%M:%S", time.localtime())
        try:
            with open(os.path.join(state, "journal.log"), "a") as f:
                f.write(f"{stamp} {host_name} {message}\n")
        except OSError:
            pass

    # ---- docker ---------------------------------------------------------------------------------------------------------

    def docker(self, pid, argc):
        """docker.sh's request: node.py's docker code, run here for that node; the answer is sh for docker.sh to run."""
        try:
            with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")[:-1]
            count = int(argc)
            if not 0 <= count < len(argv):
                raise ValueError(f"{count} arguments of {len(argv) - 1}")
            args = [a.decode(errors="surrogateescape") for a in argv[len(argv) - count:]]
            node = self.node_module()
            out, err = io.StringIO(), io.StringIO()
            node.ROOT = f"/proc/{int(pid)}/root"
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = node.docker(args)
                code = code if isinstance(code, int) else 1
            finally:
                node.ROOT = ""
        except Exception as e:  # noqa: BLE001 - a request never ends the host
            out, err, code = io.StringIO(), io.StringIO(f"docker (OpenViduHa.Lab service host): {e!r}\n"), 1
        script = ""
        if out.getvalue():
            script += f"printf %s {self.quote(out.getvalue())}\n"
        if err.getvalue():
            script += f"printf %s {self.quote(err.getvalue())} >&2\n"
        script += f"exit {code}\n"
        answer = script.encode(errors="surrogateescape")
        if len(answer) > self.ANSWER_LIMIT:
            answer = b'exec /usr/bin/python3 -IS "$LAB_SHARE/node.py" docker "$@"\n'
        return answer

    @staticmethod
    def quote(text):
        return "'" + text.replace("'", "'\\''") + "'"

    def node_module(self):
        if self.node is None:
            spec = importlib.util.spec_from_file_location("ovha_lab_node", self.node_script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.node = module
        return self.node

    # ---- the listeners ----------------------------------------------------------------------------------------------

    def accept(self, server, service, port):
        while True:
            try:
                conn, _ = server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn.setblocking(False)
            if port in HTTP_PORTS:
                self.pending[conn] = Connection("http", service, port, time.monotonic() + self.HTTP_TIMEOUT)
            else:
                try:
                    conn.send(f"ovha-lab {service.host_name} {port}\n".encode())  # a fresh socket: room for one line
                except OSError:
                    conn.close()
                    continue
                self.pending[conn] = Connection("echo", service, port, time.monotonic() + self.IDLE_TIMEOUT)
            self.selector.register(conn, selectors.EVENT_READ, ("conn", None))

    def read(self, conn):
        connection = self.pending.get(conn)
        if connection is None:
            return  # closed earlier in this round of events (its service stopped or restarted): nothing to read
        try:
            chunk = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close(conn)
        elif connection.kind == "echo":
            connection.deadline = time.monotonic() + self.IDLE_TIMEOUT
            if not self.send(conn, chunk):
                self.close(conn)
        elif connection.kind == "websocket":
            connection.deadline = time.monotonic() + self.IDLE_TIMEOUT
            connection.data += chunk
            self.frames(conn, connection)
        else:
            connection.data += chunk
            end = connection.data.find(b"\r\n\r\n")
            if end >= 0:
                self.answer(conn, connection, connection.data[:end], connection.data[end + 4:])
            elif len(connection.data) > self.HTTP_LIMIT:
                self.close(conn)

    def answer(self, conn, connection, head, rest):
        """Answers the request whose head is complete: the health endpoints, or a WebSocket upgrade."""
        service = connection.service
        lines = head.decode("latin-1").split("\r\n")
        request = lines[0].split()
        path = request[1].split("?", 1)[0] if len(request) > 1 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        lab = f"X-Lab-Node: {service.host_name}\r\n" + "".join(
            f"{echo}: {headers[name]}\r\n" for name, echo in self.ECHOED_HEADERS if name in headers)
        key = headers.get("sec-websocket-key")
        if connection.port == METRICS_PORT:
            self.metrics(conn, service, lab)
            return
        if headers.get("upgrade", "").lower() == "websocket" and key:
            import base64
            import hashlib
            accept = base64.b64encode(hashlib.sha1(key.encode() + self.WEBSOCKET_GUID).digest()).decode()
            response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Accept: {accept}\r\n{lab}\r\n").encode()
            if not self.send(conn, response):
                self.close(conn)
                return
            connection.kind = "websocket"
            connection.data = rest
            connection.deadline = time.monotonic() + self.IDLE_TIMEOUT
            self.frames(conn, connection)
            return
        if service.master:
            code, reason, body = (200, "OK", "OK") if path in ("/health/caddy", "/") else (404, "Not Found", "404 page not found")
        elif path != "/":
            code, reason, body = 404, "Not Found", "404 page not found"
        elif os.path.exists(os.path.join(service.state, "media-stats-stale")):
            code, reason, body = 406, "Not Acceptable", "Not Ready"
        else:
            code, reason, body = 200, "OK", "OK"
        data = body.encode()
        self.send(conn, f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        f"Content-Length: {len(data)}\r\n{lab}Connection: close\r\n\r\n".encode() + data)
        self.close(conn)

    def metrics(self, conn, service, lab):
        """LiveKit's Prometheus endpoint (promhttp's handler: every path, every method), in the text format: the rooms
        and participants it hosts, read from the node's rooms file now (one participant a room)."""
        rooms = service.rooms()
        labels = f'{{node_id="{service.node_id}",node_type="MEDIA"}}'
        body = ("# TYPE go_goroutines gauge\n"
                f"go_goroutines {40 + 3 * rooms}\n"
                "# TYPE livekit_participant_total gauge\n"
                f"livekit_participant_total{labels} {rooms}\n"
                "# TYPE livekit_room_total gauge\n"
                f"livekit_room_total{labels} {rooms}\n").encode()
        self.send(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                        f"Content-Length: {len(body)}\r\n{lab}Connection: close\r\n\r\n".encode() + body)
        self.close(conn)

    def frames(self, conn, connection):
        """Echoes every complete WebSocket frame received (unmasked, as a server sends them): data frames with their
        opcode and FIN bit, a ping as a pong, a close as a close, then the connection ends."""
        data = connection.data
        while len(data) >= 2:
            first, second = data[0], data[1]
            opcode, length, at = first & 0x0F, second & 0x7F, 2
            if length == 126:
                if len(data) < 4:
                    break
                length, at = int.from_bytes(data[2:4], "big"), 4
            elif length == 127:
                if len(data) < 10:
                    break
                length, at = int.from_bytes(data[2:10], "big"), 10
            if length > self.FRAME_LIMIT:
                self.close(conn)
                return
            mask = b""
            if second & 0x80:
                mask, at = data[at:at + 4], at + 4
            if len(mask) < 4 and second & 0x80 or len(data) < at + length:
                break
            payload = data[at:at + length]
            data = data[at + length:]
            if mask:
                payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
            if opcode == 0xA:
                continue  # a pong: nothing to answer
            reply_opcode = 0xA if opcode == 0x9 else opcode
            header = bytes([(first & 0x80) | reply_opcode])
            if length < 126:
                header += bytes([length])
            elif length < 65536:
                header += bytes([126]) + length.to_bytes(2, "big")
            else:
                header += bytes([127]) + length.to_bytes(8, "big")
            if not self.send(conn, header + payload) or opcode == 0x8:
                self.close(conn)
                return
        connection.data = data

    @staticmethod
    def send(conn, data):
        """Sends it all (waiting at most a second: every node's service shares this loop); False when the peer is gone."""
        try:
            conn.setblocking(True)
            conn.settimeout(1.0)
            conn.sendall(data)
            conn.setblocking(False)
            return True
        except OSError:
            return False

    def close(self, conn):
        self.pending.pop(conn, None)
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def expire(self):
        now = time.monotonic()
        for conn in [c for c, p in self.pending.items() if p.deadline < now]:
            self.close(conn)


def main():
    lab_dir, lab_id, keep_files, id_lock = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    supervisor = Supervisor(lab_dir, lab_id, keep_files)
    supervisor.sshd_args = sys.argv[5:]

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        supervisor.start_service_host()
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            command, args = words[0], words[1:]
            try:
                if command == "boot":
                    result = supervisor.boot(args)
                elif command == "sshd-start":
                    result = supervisor.sshd_start(args)
                elif command == "sshd-stop":
                    result = supervisor.sshd_stop(int(args[0]))
                elif command == "power-off":
                    result = supervisor.power_off(int(args[0]))
                elif command == "teardown":
                    supervisor.teardown()
                    supervisor.done = True
                    print("ok", flush=True)
                    return
                else:
                    raise RuntimeError(f"unknown command {command}")
                print(f"ok {result}".rstrip(), flush=True)
            except Exception as e:  # noqa: BLE001 - every failure goes back to the lab as one line
                print("error " + str(e).replace("\n", " | "), flush=True)
    finally:
        if not supervisor.done:
            # The lab's process is gone, and with it its lock on the lab id: hold the id until everything is ended
            # (unless a new lab took it first; it then ends these leftovers itself).
            try:
                held = os.open(id_lock, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass
            supervisor.teardown()


if __name__ == "__main__":
    main()
