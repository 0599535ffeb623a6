#!/bin/sh
# OpenViduHa.Lab stand-in for OpenVidu HA @SCRIPT_NAME@, version @OPENVIDU_VERSION@.
#
# The lab serves it at <lab>/pro/ha/@OPENVIDU_VERSION@/@SCRIPT_NAME@, the real one's URL layout. Like the real one it
# must run as root, takes its flags as --flag=value (or bare), re-splits them ($*), refuses unknown and missing
# flags, exits non-zero on any failure, writes this generation's config files under /opt/openvidu and the systemd unit
# openvidu, prints the real banners and starts nothing. In place of Docker it sleeps a few seconds.
# It is stricter than the real one on one point: every secret the cluster shares is required, because a secret
# generated per node would silently split the cluster.
# Lab state: /usr/local/lib/ovha-lab (node.env, installer-fail, installer-delay, installer-runs, installed).
set -eu

OPENVIDU_VERSION='@OPENVIDU_VERSION@'
SCRIPT_ROLE='@NODE_ROLE@'
GENERATION='@GENERATION@'
LAB=/usr/local/lib/ovha-lab

lab_record_run() {
  code=$?
  if [ -w "$LAB/installer-runs" ]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) version=$OPENVIDU_VERSION role=$SCRIPT_ROLE uid=$(id -u) exit=$code" >> "$LAB/installer-runs" || true
  fi
  exit "$code"
}
trap lab_record_run EXIT

fail() {
  printf '%s\n' "$*" >&2
  exit 1
}

# Check if executing as root
if [ "$(id -u)" -ne 0 ]; then
  echo "Please run as root"
  exit 1
fi

[ -r "$LAB/node.env" ] || fail "Error: this is not an OpenViduHa.Lab node ($LAB/node.env is missing)"
. "$LAB/node.env"

# The real script hands its arguments on unquoted ($*): they are split again and globs expand. So do we.
# shellcheck disable=SC2048,SC2086
set -- $*

# ---- the flags this script takes -----------------------------------------------------------------------------------
version_at_least() { # X.Y.Z
  [ "$(printf '%s\n%s\n' "$1" "$OPENVIDU_VERSION" | sort -V | head -n 1)" = "$1" ]
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
if version_at_least 3.5.0 && [ "$GENERATION" = current ]; then
  BARE_FLAGS="$BARE_FLAGS forceUTCTimezone"
fi

in_list() { # word list
  for item in $2; do [ "$item" = "$1" ] && return 0; done
  return 1
}

var_of() { # flag name -> shell variable holding its value
  printf 'FLAG_%s' "$1" | tr -c 'A-Za-z0-9_\n' '_'
}

SEEN=' '
for arg in "$@"; do
  case "$arg" in
    --*=*)
      name=${arg%%=*}; name=${name#--}; value=${arg#*=}
      if in_list "$name" "$BARE_FLAGS"; then
        fail "Error: flag --$name takes no value (got '$arg')"
      fi
      in_list "$name" "$VALUE_FLAGS" || fail "Error: unknown flag: --$name"
      [ -n "$value" ] || fail "Error: flag needs a value: --$name"
      eval "$(var_of "$name")=\$value"
      ;;
    --*)
      name=${arg#--}
      if in_list "$name" "$VALUE_FLAGS"; then
        fail "Error: flag needs an argument: --$name"
      fi
      in_list "$name" "$BARE_FLAGS" || fail "Error: unknown flag: --$name"
      eval "$(var_of "$name")=true"
      ;;
    *)
      fail "Error: unexpected argument '$arg' (a value with spaces or glob characters is split by the installer)"
      ;;
  esac
  SEEN="$SEEN$name "
done

flag() { # name -> value or empty
  eval "printf '%s' \"\${$(var_of "$1"):-}\""
}

MODULES=$(flag enabled-modules)
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

# ---- values --------------------------------------------------------------------------------------------------------
is_ipv4() {
  printf '%s' "$1" | grep -Eq '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
}

[ "$(flag deployment-type)" = ha ] || fail "Error: invalid --deployment-type '$(flag deployment-type)': this is the 'ha' installer"
[ "$(flag node-role)" = "$SCRIPT_ROLE" ] || fail "Error: invalid --node-role '$(flag node-role)': this script installs a '$SCRIPT_ROLE'"
case "$(flag rtc-engine)" in ''|pion|mediasoup) ;; *) fail "Error: invalid --rtc-engine '$(flag rtc-engine)': pion or mediasoup" ;; esac
case "$(flag certificate-type)" in ''|selfsigned|letsencrypt|owncert) ;; *) fail "Error: invalid --certificate-type '$(flag certificate-type)'" ;; esac

MASTER_IPS=$(flag master-node-private-ip-list)
count=0
old_ifs=$IFS; IFS=,
for ip in $MASTER_IPS; do
  count=$((count + 1))
  is_ipv4 "$ip" || { IFS=$old_ifs; fail "Error: invalid IP '$ip' in --master-node-private-ip-list"; }
  eval "MASTER_NODE_${count}_PRIVATE_IP=\$ip"
done
IFS=$old_ifs
for module in $(printf '%s' "$MODULES" | tr ',' ' '); do
  in_list "$module" "$MODULES_KNOWN" || fail "Error: unknown module '$module' in --enabled-modules (OpenVidu $OPENVIDU_VERSION knows: $MODULES_KNOWN)"
done
[ "$count" -eq 4 ] || fail "Error: --master-node-private-ip-list needs the private IPs of the 4 Master Nodes, got $count"
for name in private-ip public-ip; do
  value=$(flag "$name")
  [ -z "$value" ] || is_ipv4 "$value" || fail "Error: invalid --$name '$value'"
done

# ---- "install" -----------------------------------------------------------------------------------------------------
echo "Docker version 29.4.2 is compatible with required version 29.4.2."
echo "Docker Compose version v5.1.3 is compatible with required version v5.1.3."
echo "Pulling the OpenVidu installer image openvidu/openvidu-installer:$OPENVIDU_VERSION (OpenViduHa.Lab: simulated)"

delay=${LAB_INSTALLER_DELAY:-0}
[ -r "$LAB/installer-delay" ] && delay=$(cat "$LAB/installer-delay")
sleep "$delay"

if [ -r "$LAB/installer-fail" ]; then
  cat "$LAB/installer-fail" >&2
  exit 1
fi

write_env() { # file, then KEY=VALUE lines on stdin
  mkdir -p "$(dirname "$1")"
  cat > "$1.tmp"
  chmod 600 "$1.tmp"
  mv "$1.tmp" "$1"
}

masters() {
  echo "MASTER_NODE_1_PRIVATE_IP=$MASTER_NODE_1_PRIVATE_IP"
  echo "MASTER_NODE_2_PRIVATE_IP=$MASTER_NODE_2_PRIVATE_IP"
  echo "MASTER_NODE_3_PRIVATE_IP=$MASTER_NODE_3_PRIVATE_IP"
  echo "MASTER_NODE_4_PRIVATE_IP=$MASTER_NODE_4_PRIVATE_IP"
}

PRIVATE_IP=$(flag private-ip)
[ -n "$PRIVATE_IP" ] || PRIVATE_IP=$LAB_NODE_ADDRESS
mkdir -p /opt/openvidu

if [ "$GENERATION" = 3.0 ]; then
  {
    echo "# OpenVidu HA $OPENVIDU_VERSION ($SCRIPT_ROLE), written by the OpenViduHa.Lab installer stand-in"
    echo "DOMAIN_OR_PUBLIC_IP=$(flag domain-name-or-ip)"
    echo "OPENVIDU_PRO_LICENSE=$(flag openvidu-pro-license)"
    echo "OPENVIDU_RTC_ENGINE=$(flag rtc-engine)"
    echo "ENABLED_MODULES=$MODULES"
    echo "LIVEKIT_TURN_DOMAIN_NAME=$(flag turn-domain-name)"
    masters
    echo "LIVEKIT_API_KEY=$(flag livekit-api-key)"
    echo "LIVEKIT_API_SECRET=$(flag livekit-api-secret)"
    echo "REDIS_PASSWORD=$(flag redis-password)"
    echo "MINIO_ACCESS_KEY=$(flag minio-access-key)"
    echo "MINIO_SECRET_KEY=$(flag minio-secret-key)"
    echo "MONGO_ADMIN_USER=$(flag mongo-admin-user)"
    echo "MONGO_ADMIN_PASSWORD=$(flag mongo-admin-password)"
    if [ "$SCRIPT_ROLE" = master-node ]; then
      echo "MONGO_REPLICA_SET_KEY=$(flag mongo-replica-set-key)"
      echo "DASHBOARD_ADMIN_USER=$(flag dashboard-admin-user)"
      echo "DASHBOARD_ADMIN_PASSWORD=$(flag dashboard-admin-password)"
      echo "GRAFANA_ADMIN_USER=$(flag grafana-admin-user)"
      echo "GRAFANA_ADMIN_PASSWORD=$(flag grafana-admin-password)"
    else
      echo "MEDIA_NODE_PRIVATE_IP=$PRIVATE_IP"
      echo "MEDIA_NODE_PUBLIC_IP=$(flag public-ip)"
    fi
  } | write_env /opt/openvidu/.env
elif [ "$SCRIPT_ROLE" = master-node ]; then
  {
    echo "DOMAIN_NAME=$(flag domain-name)"
    echo "LIVEKIT_TURN_DOMAIN_NAME=$(flag turn-domain-name)"
    echo "OPENVIDU_PRO_LICENSE=$(flag openvidu-pro-license)"
    echo "OPENVIDU_RTC_ENGINE=$(flag rtc-engine)"
    echo "ENABLED_MODULES=$MODULES"
    echo "LIVEKIT_API_KEY=$(flag livekit-api-key)"
    echo "LIVEKIT_API_SECRET=$(flag livekit-api-secret)"
    echo "MINIO_ACCESS_KEY=$(flag minio-access-key)"
    echo "MINIO_SECRET_KEY=$(flag minio-secret-key)"
    echo "MONGO_ADMIN_USERNAME=$(flag mongo-admin-user)"
    echo "MONGO_ADMIN_PASSWORD=$(flag mongo-admin-password)"
    echo "DASHBOARD_ADMIN_USERNAME=$(flag dashboard-admin-user)"
    echo "DASHBOARD_ADMIN_PASSWORD=$(flag dashboard-admin-password)"
    echo "GRAFANA_ADMIN_USERNAME=$(flag grafana-admin-user)"
    echo "GRAFANA_ADMIN_PASSWORD=$(flag grafana-admin-password)"
  } | write_env /opt/openvidu/config/cluster/openvidu.env
  {
    echo "MEET_INITIAL_ADMIN_USER=admin"
    echo "MEET_INITIAL_ADMIN_PASSWORD=$(flag meet-initial-admin-password)"
    echo "MEET_INITIAL_API_KEY=$(flag meet-initial-api-key)"
  } | write_env /opt/openvidu/config/cluster/master_node/meet.env
  {
    echo "REDIS_PASSWORD=$(flag redis-password)"
    masters
  } | write_env /opt/openvidu/config/node/master_node.env
else
  {
    echo "MEDIA_NODE_PRIVATE_IP=$PRIVATE_IP"
    masters
    echo "REDIS_PASSWORD=$(flag redis-password)"
  } | write_env /opt/openvidu/config/node/media_node.env
fi

if [ "$SCRIPT_ROLE" = master-node ]; then NODE_TITLE='Master Node'; else NODE_TITLE='Media Node'; fi
mkdir -p /etc/systemd/system
cat > /etc/systemd/system/openvidu.service <<EOF
[Unit]
Description=OpenVidu HA $NODE_TITLE
After=docker.service
Requires=docker.service

[Service]
LimitNOFILE=500000
Restart=always
WorkingDirectory=/opt/openvidu
ExecStart=/usr/local/bin/docker-compose -f docker-compose.yaml -f docker-compose.override.yaml up
ExecStop=/usr/local/bin/docker-compose -f docker-compose.yaml -f docker-compose.override.yaml down
RestartSec=10

[Install]
WantedBy=multi-user.target
EOF

{
  echo "ROLE=$SCRIPT_ROLE"
  echo "VERSION=$OPENVIDU_VERSION"
  echo "GENERATION=$GENERATION"
  echo "MODULES=$MODULES"
} > "$LAB/installed.tmp"
mv "$LAB/installed.tmp" "$LAB/installed"

if [ "$SCRIPT_ROLE" = master-node ]; then
  cat <<'EOF'

> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <
>                                                                             <
>  🎉🎉 OpenVidu HA 'Master Node' Installation Finished Successfully! 🎉🎉    <
>                                                                             <
> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <
EOF
else
  cat <<'EOF'

> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <
>                                                                             <
>  🎉 OpenVidu HA 'Media Node' Installation Finished Successfully! 🎉         <
>                                                                             <
> - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - <
EOF
  echo
  echo "ATTENTION!!! This is the private IP of this 'Media Node'. Make sure this IP is reachable from all the 'Master Node'"
  echo "$PRIVATE_IP"
  echo "If this is not your private IP, reinstall the 'Media Node' with the correct '--private-ip' parameter"
  echo
fi
