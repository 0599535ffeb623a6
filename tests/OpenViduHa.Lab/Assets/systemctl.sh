#!/bin/sh
# OpenViduHa.Lab stand-in for systemctl inside a node: /usr/local/bin/systemctl links here.
#
# `systemctl start|stop|restart|is-active openvidu` are the hot path (every install and health check runs them), so they
# are POSIX sh without a single fork: a fork and exec costs some 15 ms of CPU on a small machine, a python start 50 ms
# and more. The service itself (the role's ports on the node's address) lives in the lab's service host, one process
# for every node (supervisor.py, ServiceHost): start, stop and restart ask it over its FIFO and wait for its answer.
# Everything else (status, is-enabled, enable, daemon-reload, other units, several units at once) is node.py's.
#
# Lab state: /usr/local/lib/ovha-lab (node.env; service.pid, the service host's pid while the service runs;
# service-verbose, a fault switch).

LAB=/usr/local/lib/ovha-lab
UNIT=/etc/systemd/system/openvidu.service

verb='' unit='' more='' quiet=''
for arg in "$@"; do
  case $arg in
    -q|--quiet) quiet=1 ;;
    -*) ;;
    *)
      if [ -z "$verb" ]; then verb=$arg
      elif [ -z "$unit" ]; then unit=$arg
      else more=1
      fi
      ;;
  esac
done

. "$LAB/node.env"  # LAB_NODE_NAME, LAB_NODE_ADDRESS, LAB_NODE_STATE, LAB_SHARE

case "$verb:$unit:$more" in
  start:openvidu:|start:openvidu.service:|stop:openvidu:|stop:openvidu.service:) ;;
  restart:openvidu:|restart:openvidu.service:|is-active:openvidu:|is-active:openvidu.service:) ;;
  *) exec /usr/bin/python3 -IS "$LAB_SHARE/node.py" systemctl "$@" ;;
esac

active() { # the service runs: service.pid names a live service host
  { read -r pid < "$LAB/service.pid" && read -r comm < "/proc/$pid/comm"; } 2>/dev/null || return 1
  case $comm in ovha-svc-*) return 0 ;; esac
  return 1
}

if [ "$verb" = is-active ]; then
  if active; then
    [ -n "$quiet" ] || echo active
    exit 0
  fi
  [ -n "$quiet" ] || echo inactive
  exit 3
fi

# start, stop, restart: root only (root can write the lab's state folder; nobody else can).
if ! [ -w "$LAB" ]; then
  echo "Failed to $verb openvidu.service: Interactive authentication required." >&2
  exit 1
fi
if ! [ -e "$UNIT" ]; then
  if [ "$verb" = stop ]; then
    echo "Failed to stop openvidu.service: Unit openvidu.service not loaded." >&2
  else
    echo "Failed to $verb openvidu.service: Unit openvidu.service not found." >&2
  fi
  exit 5
fi
if [ "$verb" = start ] && active; then exit 0; fi
if [ "$verb" = stop ] && ! active; then exit 0; fi

{ read -r host < "$LAB_SHARE/service-host.pid" && read -r comm < "/proc/$host/comm"; } 2>/dev/null || comm=''
case $comm in
  ovha-svc-*) ;;
  *) echo "Failed to $verb openvidu.service: the lab's service host is gone." >&2; exit 1 ;;
esac

# The answer comes on a pipe of our own: a here-document is a pipe in dash, reopened read-write (so reading waits for
# the answer instead of seeing an end of file); the host writes to /proc/<our pid>/fd/3. The request is one line, one
# write (shorter than PIPE_BUF: never mixed with another node's), to a FIFO the host holds open.
exec 3<<EOF
EOF
exec 3<>/proc/self/fd/3
printf '%s %s 3 %s %s %s\n' "$verb" "$$" "$LAB_NODE_ADDRESS" "$LAB_NODE_NAME" "$LAB_NODE_STATE" 1<>"$LAB_SHARE/service.fifo"
read -r code <&3
exec 3<&-
if [ "$code" != 0 ]; then
  printf '%s\n%s\n' "Job for openvidu.service failed because the control process exited with error code." \
    'See "systemctl status openvidu.service" and "journalctl -xeu openvidu.service" for details.' >&2
  exit 1
fi
# Fault (LabNode.VerboseService): a started service prints its configuration, secrets and all, as a unit that echoes its
# environment would; read without a fork.
if [ "$verb" != stop ] && [ -e "$LAB/service-verbose" ]; then
  for file in /opt/openvidu/.env /opt/openvidu/config/cluster/openvidu.env /opt/openvidu/config/node/master_node.env \
      /opt/openvidu/config/node/media_node.env; do
    [ -r "$file" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in [A-Z]*=*) printf 'openvidu: %s\n' "$line" ;; esac
    done < "$file"
  done
fi
exit 0
