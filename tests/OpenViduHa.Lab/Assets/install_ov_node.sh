#!/bin/sh
# OpenViduHa.Lab stand-in for OpenVidu HA @SCRIPT_NAME@, version @OPENVIDU_VERSION@.
#
# The lab serves it at <lab>/pro/ha/@OPENVIDU_VERSION@/@SCRIPT_NAME@, the real one's URL layout. Like the real one it
# must run as root, takes its flags as --flag=value (or bare), re-splits them ($*), refuses unknown and missing
# flags, exits non-zero on any failure, writes this generation's config files under /opt/openvidu,
# /opt/openvidu/deployment-info.yaml (the version the updater reads) and the systemd unit openvidu, prints the real
# banners and starts nothing. In place of Docker it sleeps a few seconds.
# It is stricter than the real one on one point: every secret the cluster shares is required, because a secret
# generated per node would silently split the cluster.
# Lab state: /usr/local/lib/ovha-lab (node.env, installer-fail, installer-delay, installer-echo, installer-no-banner,
# installer-runs, installed). The unit is enabled as systemd does it (the multi-user.target.wants symlink).
set -eu

OPENVIDU_VERSION='@OPENVIDU_VERSION@'
SCRIPT_ROLE='@NODE_ROLE@'
GENERATION='@GENERATION@'
LAB=/usr/local/lib/ovha-lab

# The stand-in's own work forks nothing it need not (a fork and exec costs some 15 ms of CPU on a small machine, on the
# cores the panel under test shares with the lab): no id, no date, no cat; mkdir only for missing folders, sleep only
# for a delay. Its own user from /proc/self/status, its clock from /proc/uptime (10 ms steps) plus the lab's offset.
USER_ID=''
while read -r lab_key lab_real lab_effective lab_rest; do
  if [ "$lab_key" = Uid: ]; then USER_ID=$lab_effective; break; fi
done < /proc/self/status

LAB_UPTIME_EPOCH_CS=0  # the lab's: the epoch minus /proc/uptime, in hundredths of a second (node.env)
if [ -r "$LAB/node.env" ]; then . "$LAB/node.env"; fi
lab_now() { # REPLY: seconds since the epoch, as `date +%s.%N` would say to 10 ms, without running date
  read -r lab_up lab_rest < /proc/uptime
  lab_cs=${lab_up%.*}${lab_up#*.}
  while :; do case $lab_cs in 0?*) lab_cs=${lab_cs#0} ;; *) break ;; esac; done
  lab_cs=$((lab_cs + LAB_UPTIME_EPOCH_CS))
  lab_frac=$((lab_cs % 100))
  [ "$lab_frac" -ge 10 ] || lab_frac=0$lab_frac
  REPLY=$((lab_cs / 100)).$lab_frac
}
lab_now
LAB_STARTED=$REPLY

SEEN=' '
lab_record_run() {
  code=$?
  if [ -w "$LAB/installer-runs" ]; then
    lab_now
    # The flags it took, by name only (their values are the cluster's secrets): --a,--b (LabNode.LastInstallerFlags).
    lab_flags=''
    for lab_flag in $SEEN; do lab_flags=$lab_flags${lab_flags:+,}--$lab_flag; done
    echo "version=$OPENVIDU_VERSION role=$SCRIPT_ROLE uid=$USER_ID exit=$code started=$LAB_STARTED ended=$REPLY flags=$lab_flags" >> "$LAB/installer-runs" || true
  fi
  exit "$code"
}
trap lab_record_run EXIT
# A run cut short by a signal (its SSH session closed under it, a kill) is recorded too, with 128 + the signal as exit.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

fail() {
  printf '%s\n' "$*" >&2
  exit 1
}

# Check if executing as root
if [ "$USER_ID" -ne 0 ]; then
  echo "Please run as root"
  exit 1
fi

[ -r "$LAB/node.env" ] || fail "Error: this is not an OpenViduHa.Lab node ($LAB/node.env is missing)"
. "$LAB/node.env"

# The real script hands its arguments on unquoted ($*): they are split again and globs expand. So do we.
# shellcheck disable=SC2048,SC2086
set -- $*

# ---- the flags this script takes -----------------------------------------------------------------------------------
version_at_least() { # X Y Z: is OPENVIDU_VERSION at least X.Y.Z?
  old_ifs=$IFS; IFS=.
  # shellcheck disable=SC2086
  set -- "$@" $OPENVIDU_VERSION
  IFS=$old_ifs
  [ "$4" -gt "$1" ] || { [ "$4" -eq "$1" ] && { [ "$5" -gt "$2" ] || { [ "$5" -eq "$2" ] && [ "$6" -ge "$3" ]; }; }; }
}

BARE_FLAGS='no-tty install'
case "$GENERATION:$SCRIPT_ROLE" in
  3.0:master-node)
    VALUE_FLAGS='deployment-type node-role master-node-private-ip-list openvidu-pro-license domain-name-or-ip
      enabled-modules turn-domain-name rtc-engine livekit-api-key livekit-api-secret dashboard-admin-user
      dashboard-admin-password redis-password minio-access-key minio-secret-key mongo-admin-user mongo-admin-password
      mongo-replica-set-key grafana-admin-user grafana-admin-password default-app-user default-app-password
      default-app-admin-user default-app-admin-password'
    BARE_FLAGS="$BARE_FLAGS external-load-balancer"
    REQUIRED='master-node-private-ip-list openvidu-pro-license domain-name-or-ip livekit-api-key livekit-api-secret
      dashboard-admin-user dashboard-admin-password redis-password minio-access-key minio-secret-key mongo-admin-user
      mongo-admin-password mongo-replica-set-key'
    MODULES_KNOWN='observability v2compatibility app'
    ;;
  3.0:media-node)
    VALUE_FLAGS='deployment-type node-role domain-name-or-ip master-node-private-ip-list openvidu-pro-license
      rtc-engine enabled-modules turn-domain-name livekit-api-key livekit-api-secret redis-password minio-access-key
      minio-secret-key mongo-admin-user mongo-admin-password public-ip'
    REQUIRED='domain-name-or-ip master-node-private-ip-list openvidu-pro-license livekit-api-key livekit-api-secret
      redis-password minio-access-key minio-secret-key mongo-admin-user mongo-admin-password'
    MODULES_KNOWN='observability v2compatibility app'
    ;;
  current:master-node)
    VALUE_FLAGS='deployment-type node-role master-node-private-ip-list openvidu-pro-license domain-name
      enabled-modules turn-domain-name rtc-engine livekit-api-key livekit-api-secret dashboard-admin-user
      dashboard-admin-password redis-password minio-access-key minio-secret-key mongo-admin-user mongo-admin-password
      mongo-replica-set-key grafana-admin-user grafana-admin-password meet-initial-admin-password meet-initial-api-key
      certificate-type owncert-public-key owncert-private-key'
    BARE_FLAGS="$BARE_FLAGS external-load-balancer force-media-node-public-ip"
    REQUIRED='master-node-private-ip-list openvidu-pro-license domain-name livekit-api-key livekit-api-secret
      dashboard-admin-user dashboard-admin-password redis-password minio-access-key minio-secret-key mongo-admin-user
      mongo-admin-password mongo-replica-set-key'
    MODULES_KNOWN='observability v2compatibility openviduMeet'
    ;;
  current:media-node)
    VALUE_FLAGS='deployment-type node-role master-node-private-ip-list redis-password private-ip public-ip'
    REQUIRED='master-node-private-ip-list redis-password'
    MODULES_KNOWN=''
    ;;
  *)
    fail "Error: unknown installer generation $GENERATION for $SCRIPT_ROLE"
    ;;
esac
if version_at_least 3 5 0 && [ "$GENERATION" = current ]; then
  BARE_FLAGS="$BARE_FLAGS forceUTCTimezone"
fi

in_list() { # word list
  for item in $2; do [ "$item" = "$1" ] && return 0; done
  return 1
}

# Each flag's value lands in FLAG_<name with - as _>. Pure shell (no command substitution): forks are dear.
var_of() { # flag name -> REPLY: the variable holding its value
  rest=$1; REPLY=FLAG_
  while :; do
    case $rest in
      *-*) REPLY=$REPLY${rest%%-*}_; rest=${rest#*-} ;;
      *) REPLY=$REPLY$rest; return 0 ;;
    esac
  done
}

for arg in "$@"; do
  case "$arg" in
    --*=*)
      name=${arg%%=*}; name=${name#--}; value=${arg#*=}
      if in_list "$name" "$BARE_FLAGS"; then
        fail "Error: flag --$name takes no value (got '$arg')"
      fi
      in_list "$name" "$VALUE_FLAGS" || fail "Error: unknown flag: --$name"
      [ -n "$value" ] || fail "Error: flag needs a value: --$name"
      var_of "$name"; eval "$REPLY=\$value"
      ;;
    --*)
      name=${arg#--}
      if in_list "$name" "$VALUE_FLAGS"; then
        fail "Error: flag needs an argument: --$name"
      fi
      in_list "$name" "$BARE_FLAGS" || fail "Error: unknown flag: --$name"
      var_of "$name"; eval "$REPLY=true"
      ;;
    *)
      fail "Error: unexpected argument '$arg' (a value with spaces or glob characters is split by the installer)"
      ;;
  esac
  SEEN="$SEEN$name "
done

# Every flag this generation knows, unset ones empty.
for name in $VALUE_FLAGS $BARE_FLAGS; do
  var_of "$name"; eval "$REPLY=\${$REPLY:-}"
done

MODULES=${FLAG_enabled_modules:-}
has_module() { case ",$MODULES," in *",$1,"*) return 0 ;; esac; return 1; }

if [ "$SCRIPT_ROLE" = master-node ]; then
  if has_module observability; then REQUIRED="$REQUIRED grafana-admin-user grafana-admin-password"; fi
  if has_module app; then
    REQUIRED="$REQUIRED default-app-user default-app-password default-app-admin-user default-app-admin-password"
  fi
  if has_module openviduMeet; then REQUIRED="$REQUIRED meet-initial-admin-password meet-initial-api-key"; fi
fi
REQUIRED="deployment-type node-role $REQUIRED"

missing=''
for name in $REQUIRED; do
  case "$SEEN" in *" $name "*) ;; *) missing="$missing${missing:+, }\"$name\"" ;; esac
done
[ -z "$missing" ] || fail "Error: required flag(s) $missing not set"

# Without --no-tty the real script runs the installer image interactively (docker run -it): no terminal, no install.
if [ -z "$FLAG_no_tty" ] && ! [ -t 0 ]; then
  fail "the input device is not a TTY"
fi

# ---- values --------------------------------------------------------------------------------------------------------
is_ipv4() { # a.b.c.d, each 0-255 without leading zeros
  case $1 in *[!0-9.]*|.*|*.|*..*) return 1 ;; esac
  old_ifs=$IFS; IFS=.
  # shellcheck disable=SC2086
  set -- $1
  IFS=$old_ifs
  [ $# -eq 4 ] || return 1
  for octet in "$@"; do
    case $octet in 0|[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]) ;; *) return 1 ;; esac
  done
}

[ "$FLAG_deployment_type" = ha ] || fail "Error: invalid --deployment-type '$FLAG_deployment_type': this is the 'ha' installer"
[ "$FLAG_node_role" = "$SCRIPT_ROLE" ] || fail "Error: invalid --node-role '$FLAG_node_role': this script installs a '$SCRIPT_ROLE'"
case "${FLAG_rtc_engine:-}" in ''|pion|mediasoup) ;; *) fail "Error: invalid --rtc-engine '$FLAG_rtc_engine': pion or mediasoup" ;; esac
case "${FLAG_certificate_type:-}" in ''|selfsigned|letsencrypt|owncert) ;; *) fail "Error: invalid --certificate-type '$FLAG_certificate_type'" ;; esac

count=0
old_ifs=$IFS; IFS=,
for ip in $FLAG_master_node_private_ip_list; do
  count=$((count + 1))
  IFS=$old_ifs
  is_ipv4 "$ip" || fail "Error: invalid IP '$ip' in --master-node-private-ip-list"
  eval "MASTER_NODE_${count}_PRIVATE_IP=\$ip"
  IFS=,
done
# shellcheck disable=SC2086
set -- $MODULES
IFS=$old_ifs
for module in "$@"; do
  in_list "$module" "$MODULES_KNOWN" || fail "Error: unknown module '$module' in --enabled-modules (OpenVidu $OPENVIDU_VERSION knows: $MODULES_KNOWN)"
done
[ "$count" -eq 4 ] || fail "Error: --master-node-private-ip-list needs the private IPs of the 4 Master Nodes, got $count"
for ip in "${FLAG_private_ip:-}" "${FLAG_public_ip:-}"; do
  [ -z "$ip" ] || is_ipv4 "$ip" || fail "Error: invalid IP '$ip' in --private-ip or --public-ip"
done

# ---- "install" -----------------------------------------------------------------------------------------------------
# Fault (LabNode.EchoingInstaller): the values it was given printed back, as a verbose or a failing installer might. The
# file's first line is "ok" (on stdout, then the install goes on) or "fail" (on stderr after the delay, then an error
# that names the Redis password as the last line, exit 1, nothing written); its second, a text printed with them.
ECHO_MODE='' ECHO_TEXT=''
if [ -r "$LAB/installer-echo" ]; then
  { IFS= read -r ECHO_MODE || true; IFS= read -r ECHO_TEXT || true; } < "$LAB/installer-echo"
fi
echo_given() {
  for name in dashboard-admin-user openvidu-pro-license redis-password; do
    var_of "$name"; eval "given=\${$REPLY:-}"
    [ -z "$given" ] || printf '%s\n' "Given --$name=$given"
  done
  [ -z "$ECHO_TEXT" ] || printf '%s\n' "$ECHO_TEXT"
}

echo "Docker version 29.4.2 is compatible with required version 29.4.2."
echo "Docker Compose version v5.1.3 is compatible with required version v5.1.3."
echo "Pulling the OpenVidu installer image openvidu/openvidu-installer:$OPENVIDU_VERSION (OpenViduHa.Lab: simulated)"
[ "$ECHO_MODE" != ok ] || echo_given

delay=${LAB_INSTALLER_DELAY:-0}
if [ -r "$LAB/installer-delay" ]; then read -r delay < "$LAB/installer-delay"; fi
case $delay in 0|0.0|0.00|0.000|'') ;; *) sleep "$delay" ;; esac

if [ -r "$LAB/installer-fail" ]; then
  while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done < "$LAB/installer-fail" >&2
  exit 1
fi
if [ "$ECHO_MODE" = fail ]; then
  { echo_given; printf '%s\n' "Error: Redis refused the password $FLAG_redis_password"; } >&2
  exit 1
fi

masters() {
  echo "MASTER_NODE_1_PRIVATE_IP=$MASTER_NODE_1_PRIVATE_IP"
  echo "MASTER_NODE_2_PRIVATE_IP=$MASTER_NODE_2_PRIVATE_IP"
  echo "MASTER_NODE_3_PRIVATE_IP=$MASTER_NODE_3_PRIVATE_IP"
  echo "MASTER_NODE_4_PRIVATE_IP=$MASTER_NODE_4_PRIVATE_IP"
}

PRIVATE_IP=${FLAG_private_ip:-}
[ -n "$PRIVATE_IP" ] || PRIVATE_IP=$LAB_NODE_ADDRESS
if [ "$GENERATION" = 3.0 ]; then
  set -- /opt/openvidu /etc/systemd/system
elif [ "$SCRIPT_ROLE" = master-node ]; then
  set -- /opt/openvidu/config/cluster/master_node /opt/openvidu/config/node /etc/systemd/system
else
  set -- /opt/openvidu/config/node /etc/systemd/system
fi
missing_dirs=''
for dir in "$@"; do [ -d "$dir" ] || missing_dirs="$missing_dirs $dir"; done
# shellcheck disable=SC2086
[ -z "$missing_dirs" ] || mkdir -p $missing_dirs

# The config files hold every secret: owner only.
umask 077
if [ "$GENERATION" = 3.0 ]; then
  {
    echo "# OpenVidu HA $OPENVIDU_VERSION ($SCRIPT_ROLE), written by the OpenViduHa.Lab installer stand-in"
    echo "DOMAIN_OR_PUBLIC_IP=${FLAG_domain_name_or_ip:-}"
    echo "OPENVIDU_PRO_LICENSE=${FLAG_openvidu_pro_license:-}"
    echo "OPENVIDU_RTC_ENGINE=${FLAG_rtc_engine:-}"
    echo "ENABLED_MODULES=$MODULES"
    echo "LIVEKIT_TURN_DOMAIN_NAME=${FLAG_turn_domain_name:-}"
    masters
    echo "LIVEKIT_API_KEY=${FLAG_livekit_api_key:-}"
    echo "LIVEKIT_API_SECRET=${FLAG_livekit_api_secret:-}"
    echo "REDIS_PASSWORD=${FLAG_redis_password:-}"
    echo "MINIO_ACCESS_KEY=${FLAG_minio_access_key:-}"
    echo "MINIO_SECRET_KEY=${FLAG_minio_secret_key:-}"
    echo "MONGO_ADMIN_USER=${FLAG_mongo_admin_user:-}"
    echo "MONGO_ADMIN_PASSWORD=${FLAG_mongo_admin_password:-}"
    if [ "$SCRIPT_ROLE" = master-node ]; then
      echo "MONGO_REPLICA_SET_KEY=${FLAG_mongo_replica_set_key:-}"
      echo "DASHBOARD_ADMIN_USER=${FLAG_dashboard_admin_user:-}"
      echo "DASHBOARD_ADMIN_PASSWORD=${FLAG_dashboard_admin_password:-}"
      echo "GRAFANA_ADMIN_USER=${FLAG_grafana_admin_user:-}"
      echo "GRAFANA_ADMIN_PASSWORD=${FLAG_grafana_admin_password:-}"
    else
      echo "MEDIA_NODE_PRIVATE_IP=$PRIVATE_IP"
      echo "MEDIA_NODE_PUBLIC_IP=${FLAG_public_ip:-}"
    fi
  } > /opt/openvidu/.env
elif [ "$SCRIPT_ROLE" = master-node ]; then
  {
    echo "DOMAIN_NAME=${FLAG_domain_name:-}"
    echo "LIVEKIT_TURN_DOMAIN_NAME=${FLAG_turn_domain_name:-}"
    echo "OPENVIDU_PRO_LICENSE=${FLAG_openvidu_pro_license:-}"
    echo "OPENVIDU_RTC_ENGINE=${FLAG_rtc_engine:-}"
    echo "ENABLED_MODULES=$MODULES"
    echo "LIVEKIT_API_KEY=${FLAG_livekit_api_key:-}"
    echo "LIVEKIT_API_SECRET=${FLAG_livekit_api_secret:-}"
    echo "MINIO_ACCESS_KEY=${FLAG_minio_access_key:-}"
    echo "MINIO_SECRET_KEY=${FLAG_minio_secret_key:-}"
    echo "MONGO_ADMIN_USERNAME=${FLAG_mongo_admin_user:-}"
    echo "MONGO_ADMIN_PASSWORD=${FLAG_mongo_admin_password:-}"
    echo "DASHBOARD_ADMIN_USERNAME=${FLAG_dashboard_admin_user:-}"
    echo "DASHBOARD_ADMIN_PASSWORD=${FLAG_dashboard_admin_password:-}"
    echo "GRAFANA_ADMIN_USERNAME=${FLAG_grafana_admin_user:-}"
    echo "GRAFANA_ADMIN_PASSWORD=${FLAG_grafana_admin_password:-}"
  } > /opt/openvidu/config/cluster/openvidu.env
  {
    echo "MEET_INITIAL_ADMIN_USER=admin"
    echo "MEET_INITIAL_ADMIN_PASSWORD=${FLAG_meet_initial_admin_password:-}"
    echo "MEET_INITIAL_API_KEY=${FLAG_meet_initial_api_key:-}"
  } > /opt/openvidu/config/cluster/master_node/meet.env
  {
    echo "REDIS_PASSWORD=${FLAG_redis_password:-}"
    masters
  } > /opt/openvidu/config/node/master_node.env
else
  {
    echo "MEDIA_NODE_PRIVATE_IP=$PRIVATE_IP"
    echo "MEDIA_NODE_PUBLIC_IP=${FLAG_public_ip:-}"
    masters
    echo "REDIS_PASSWORD=${FLAG_redis_password:-}"
  } > /opt/openvidu/config/node/media_node.env
fi
umask 022

# What the updater reads (update.sh: the installed version, and where it runs); no secret in it. 0644.
printf '%s\n' "version: \"$OPENVIDU_VERSION\"" 'environment: on_premise' > /opt/openvidu/deployment-info.yaml

if [ "$SCRIPT_ROLE" = master-node ]; then NODE_TITLE='Master Node'; else NODE_TITLE='Media Node'; fi
printf '%s\n' \
  '[Unit]' \
  "Description=OpenVidu HA $NODE_TITLE" \
  'After=docker.service' \
  'Requires=docker.service' \
  '' \
  '[Service]' \
  'LimitNOFILE=500000' \
  'Restart=always' \
  'WorkingDirectory=/opt/openvidu' \
  'ExecStart=/usr/local/bin/docker-compose -f docker-compose.yaml -f docker-compose.override.yaml up' \
  'ExecStop=/usr/local/bin/docker-compose -f docker-compose.yaml -f docker-compose.override.yaml down' \
  'RestartSec=10' \
  '' \
  '[Install]' \
  'WantedBy=multi-user.target' > /etc/systemd/system/openvidu.service
# Enabled, as the real installer's `systemctl enable openvidu` leaves it: the [Install] section's symlink (an ln only
# when it is missing: a first install, or after `systemctl disable`).
WANTS=/etc/systemd/system/multi-user.target.wants
[ -d "$WANTS" ] || mkdir -p "$WANTS"
[ -L "$WANTS/openvidu.service" ] || ln -s /etc/systemd/system/openvidu.service "$WANTS/openvidu.service"

{
  echo "ROLE=$SCRIPT_ROLE"
  echo "VERSION=$OPENVIDU_VERSION"
  echo "GENERATION=$GENERATION"
  echo "MODULES=$MODULES"
} > "$LAB/installed"

# Fault (LabNode.BannerlessInstaller): the work is done and the exit status is 0, but no banner follows (a wrapper that
# swallowed the installer's last lines would look like this).
[ ! -e "$LAB/installer-no-banner" ] || exit 0

if [ "$SCRIPT_ROLE" = master-node ]; then
  printf '%s\n' \
    '' \
    '> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <' \
    '>                                                                             <' \
    ">  🎉🎉 OpenVidu HA 'Master Node' Installation Finished Successfully! 🎉🎉    <" \
    '>                                                                             <' \
    '> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <'
else
  printf '%s\n' \
    '' \
    '> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <' \
    '>                                                                             <' \
    ">  🎉 OpenVidu HA 'Media Node' Installation Finished Successfully! 🎉         <" \
    '>                                                                             <' \
    '> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <' \
    '' \
    "ATTENTION!!! This is the private IP of this 'Media Node'. Make sure this IP is reachable from all the 'Master Node'" \
    "$PRIVATE_IP" \
    "If this is not your private IP, reinstall the 'Media Node' with the correct '--private-ip' parameter" \
    ''
fi
