#!/bin/sh
# OpenViduHa.Lab stand-in for docker inside a node: /usr/local/bin/docker links here.
#
# `docker ps --format ...` and `docker inspect --format ...` are a status collector's hot path (every node, every few
# seconds), so they start no python: a python start costs 50 ms of CPU and more on a small machine, node.py's docker
# some 60-100 ms. The lab's service host (supervisor.py, ServiceHost), which runs every node's openvidu service, has
# node.py loaded already: it runs node.py's docker code for this node (the same code, so the same output) and answers
# with a few lines of sh that print it and exit with its code. This script forks nothing on that path.
# Everything else (the table, -q, --filter, logs, info, compose, ...), and everything when the service host is gone,
# is `node.py docker ...` (a python start).
#
# Lab state: /usr/local/lib/ovha-lab (node.env; the rest is read by node.py's code).

LAB=/usr/local/lib/ovha-lab

. "$LAB/node.env"  # LAB_NODE_NAME, LAB_NODE_ADDRESS, LAB_NODE_STATE, LAB_SHARE

fast=''
case ${1-} in
  ps)
    for arg in "$@"; do
      case $arg in --format|--format=*) fast=1 ;; esac
    done
    ;;
  inspect)
    for arg in "$@"; do
      case $arg in -f|--format|--format=*) fast=1 ;; esac
    done
    ;;
esac
# The service host must be there, and ours to ask (root: its FIFO is root's alone).
if [ -n "$fast" ] && [ -w "$LAB_SHARE/service.fifo" ]; then
  { read -r host < "$LAB_SHARE/service-host.pid" && read -r comm < "/proc/$host/comm"; } 2>/dev/null || comm=''
  case $comm in ovha-svc-*) ;; *) fast='' ;; esac
else
  fast=''
fi
[ -n "$fast" ] || exec /usr/bin/python3 -IS "$LAB_SHARE/node.py" docker "$@"

# The host reads our arguments from /proc/<our pid>/cmdline (the last $# of them: no quoting, no length limit) and the
# node's files through /proc/<our pid>/root. Its answer comes on a pipe of our own, as systemctl.sh's does: a
# here-document is a pipe in dash, reopened read-write; the host writes to /proc/<our pid>/fd/3. The answer is sh that
# ends in `exit`: `.` reads it in blocks (`read` would take a byte per system call) and runs it; it never needs an end of
# file, which a pipe we hold open for writing would never give.
exec 3<<EOF
EOF
exec 3<>/proc/self/fd/3
if ! { printf 'docker %s 3 %s %s %s %s\n' "$$" "$LAB_NODE_ADDRESS" "$LAB_NODE_NAME" "$LAB_NODE_STATE" "$#" \
    1<>"$LAB_SHARE/service.fifo"; } 2>/dev/null; then
  exec /usr/bin/python3 -IS "$LAB_SHARE/node.py" docker "$@"
fi
. /proc/self/fd/3
exit 1  # not reached: the answer exits
