#!/bin/sh
# OpenViduHa.Lab stand-in for OpenVidu's update.sh, version @OPENVIDU_VERSION@.
#
# The lab serves it at <lab>/update/@OPENVIDU_VERSION@/update.sh, the real one's URL layout. Like the real one (the
# updaters before 3.7.0, which go one hop per run) it must run as root, reads the installed version from
# /opt/openvidu/deployment-info.yaml, takes a node only from the release before its own on the updater chain (the real
# messages, on stdout as there, exit 1), stops the openvidu service itself, needs --no-tty without a terminal, backs up
# the files it changes under /opt/openvidu/backups/<DATE>_<old version>/ and leaves the service stopped. In place of
# Docker (the updater image) it sleeps the lab's installer delay and rewrites the files itself: from 3.1.0 to 3.2.0 the
# configuration moves from /opt/openvidu/.env to the current layout (config/cluster, config/node), keys renamed.
# Lab state: /usr/local/lib/ovha-lab (node.env, installed, updater-fail, updater-delay, updater-runs).
set -eu

OPENVIDU_VERSION='@OPENVIDU_VERSION@'
UPDATE_CHAIN='@UPDATE_CHAIN@'
INSTALL_PREFIX=/opt/openvidu
LAB=/usr/local/lib/ovha-lab

# Forks only what it must, like the installer stand-in: systemctl (the lab's, which forks nothing more), mkdir and cp
# for the backup, mkdir for missing config folders, rm for the old .env, sleep for a delay. Its user from
# /proc/self/status; its clock (the run's times, the backup's date) from /proc/uptime plus the lab's offset.
USER_ID=''
# shellcheck disable=SC2034 # lab_real, lab_rest: the fields read past
while read -r lab_key lab_real lab_effective lab_rest; do
  if [ "$lab_key" = Uid: ]; then USER_ID=$lab_effective; break; fi
done < /proc/self/status

LAB_UPTIME_EPOCH_CS=0  # the lab's: the epoch minus /proc/uptime, in hundredths of a second (node.env)
# shellcheck disable=SC1091
if [ -r "$LAB/node.env" ]; then . "$LAB/node.env"; fi
lab_now() { # REPLY: seconds since the epoch, as `date +%s.%N` would say to 10 ms, without running date
  # shellcheck disable=SC2034
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

CURRENT_VERSION=''
lab_record_run() {
  code=$?
  if [ -w "$LAB/updater-runs" ]; then
    lab_now
    echo "from=$CURRENT_VERSION to=$OPENVIDU_VERSION uid=$USER_ID exit=$code started=$LAB_STARTED ended=$REPLY" >> "$LAB/updater-runs" || true
  fi
  exit "$code"
}
trap lab_record_run EXIT

fail() {
  printf '%s\n' "$*" >&2
  exit 1
}

two_digits() { # REPLY: $1 with a leading zero below 10
  if [ "$1" -lt 10 ]; then REPLY=0$1; else REPLY=$1; fi
}

lab_date() { # REPLY: epoch seconds $1 as YYYY-MM-DD-HH-MM-SS, UTC, without running date (days to civil date)
  lab_days=$(($1 / 86400)); lab_secs=$(($1 % 86400))
  lab_z=$((lab_days + 719468)); lab_era=$((lab_z / 146097)); lab_doe=$((lab_z - lab_era * 146097))
  lab_yoe=$(((lab_doe - lab_doe / 1460 + lab_doe / 36524 - lab_doe / 146096) / 365))
  lab_doy=$((lab_doe - (365 * lab_yoe + lab_yoe / 4 - lab_yoe / 100)))
  lab_mp=$(((5 * lab_doy + 2) / 153))
  lab_day=$((lab_doy - (153 * lab_mp + 2) / 5 + 1))
  if [ "$lab_mp" -lt 10 ]; then lab_month=$((lab_mp + 3)); else lab_month=$((lab_mp - 9)); fi
  lab_year=$((lab_yoe + lab_era * 400))
  [ "$lab_month" -gt 2 ] || lab_year=$((lab_year + 1))
  lab_stamp=$lab_year
  for lab_part in "$lab_month" "$lab_day" $((lab_secs / 3600)) $((lab_secs % 3600 / 60)) $((lab_secs % 60)); do
    two_digits "$lab_part"
    lab_stamp=$lab_stamp-$REPLY
  done
  REPLY=$lab_stamp
}

# Check if executing as root
if [ "$USER_ID" -ne 0 ]; then
  echo "Please run as root"
  exit 1
fi

# ---- the upgrade path -----------------------------------------------------------------------------------------------
# The real one: CURRENT_VERSION="$(grep version deployment-info.yaml | cut -d':' -f2 | sed 's/^ *"//;s/"$//')". A missing
# file is grep's message on stderr and an empty version (no upgrade path for it).
INFO=$INSTALL_PREFIX/deployment-info.yaml
if [ -r "$INFO" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      *version*)
        value=${line#*:}
        [ "$value" = "$line" ] || value=${value%%:*}
        rest=$value
        while :; do case $rest in ' '*) rest=${rest# } ;; *) break ;; esac; done
        case $rest in '"'*) value=${rest#\"} ;; esac
        value=${value%\"}
        CURRENT_VERSION=$value
        break
        ;;
    esac
  done < "$INFO"
else
  echo "grep: $INFO: No such file or directory" >&2
fi

next_of() { # REPLY: the release after $1 on the chain, or nothing
  REPLY='' next_found=''
  for release in $UPDATE_CHAIN; do
    if [ -n "$next_found" ]; then REPLY=$release; return 0; fi
    [ "$release" != "$1" ] || next_found=1
  done
}
next_of "$CURRENT_VERSION"
NEXT_VERSION=$REPLY
if [ -z "$NEXT_VERSION" ]; then
  echo "ERROR: No upgrade path defined for version $CURRENT_VERSION"
  exit 1
fi
if [ "$OPENVIDU_VERSION" != "$NEXT_VERSION" ]; then
  echo "ERROR: Version $CURRENT_VERSION can only be upgraded to version $NEXT_VERSION"
  echo "Please upgrade first to version $NEXT_VERSION"
  echo "You can do it by running the following command:"
  echo ""
  echo ""
  echo "    sh <(curl -fsSL http://get.openvidu.io/update/$NEXT_VERSION/update.sh)"
  echo ""
  echo ""
  exit 1
fi

# Stop OpenVidu service
echo "Stopping OpenVidu service..."
systemctl stop openvidu

echo "Docker version 29.4.2 is compatible with required version 29.4.2."
echo "Docker Compose version v5.1.3 is compatible with required version v5.1.3."
echo "Pulling the OpenVidu updater image openvidu/openvidu-updater:$OPENVIDU_VERSION (OpenViduHa.Lab: simulated)"

# Without --no-tty the real script runs the updater image interactively (docker run -it): no terminal, no update. The
# service is already stopped by then.
INTERACTIVE_MODE=true
for arg in "$@"; do
  if [ "$arg" = "--no-tty" ]; then
    INTERACTIVE_MODE=false
    break
  fi
done
if [ "$INTERACTIVE_MODE" = true ] && ! [ -t 0 ]; then
  fail "the input device is not a TTY"
fi

# ---- the updater image's part ----------------------------------------------------------------------------------------
# It gets the arguments re-split ($*), as the real script hands them on, and takes --no-tty only.
# shellcheck disable=SC2048,SC2086
set -- $*
for arg in "$@"; do
  case $arg in
    --no-tty) ;;
    --*) fail "Error: unknown flag: ${arg%%=*}" ;;
    *) fail "Error: unexpected argument '$arg'" ;;
  esac
done

ROLE='' MODULES=''
if [ -r "$LAB/installed" ]; then
  while IFS='=' read -r key value || [ -n "$key" ]; do
    case $key in
      ROLE) ROLE=$value ;;
      MODULES) MODULES=$value ;;
    esac
  done < "$LAB/installed"
fi
case $ROLE in
  master-node|media-node) ;;
  *) fail "Error: OpenViduHa.Lab: no node role in $LAB/installed (install the node with the lab's installer first)" ;;
esac

# 3.0.x and 3.1.x keep everything in .env; 3.2.0 and later the current layout. The hop from 3.1.0 to 3.2.0 migrates.
env_layout() { case $1 in 3.0.*|3.1.*) return 0 ;; esac; return 1; }
layout_files() { # REPLY: the config files of version $1 on this node, relative to /opt/openvidu
  if env_layout "$1"; then
    REPLY='.env'
  elif [ "$ROLE" = master-node ]; then
    REPLY='config/cluster/openvidu.env config/cluster/master_node/meet.env config/node/master_node.env'
  else
    REPLY='config/node/media_node.env'
  fi
}
MIGRATE=false
if env_layout "$CURRENT_VERSION" && ! env_layout "$OPENVIDU_VERSION"; then MIGRATE=true; fi
layout_files "$CURRENT_VERSION"
OLD_FILES=$REPLY
NEW_FILES=''
if [ "$MIGRATE" = true ]; then
  [ -r "$INSTALL_PREFIX/.env" ] || fail "Error: $INSTALL_PREFIX/.env not found: no configuration to update"
  layout_files "$OPENVIDU_VERSION"
  NEW_FILES=$REPLY
fi

# ---- backup: every file it may change, as it is, under backups/<date>_<old version>/ ---------------------------------
backup_dir() {
  lab_now
  lab_date "${REPLY%.*}"
  BACKUP_DIR=$INSTALL_PREFIX/backups/${REPLY}_$CURRENT_VERSION
}
backup_dir
# A folder of its own: never into an earlier run's backup. A run in the same second as the last one from this version
# (the stand-in is quick; the real updater takes minutes) waits for the next second.
while [ -e "$BACKUP_DIR" ]; do
  sleep 0.25
  backup_dir
done
echo "Backing up files..."
BACKED_UP=''
for file in $OLD_FILES $NEW_FILES deployment-info.yaml; do
  [ -f "$INSTALL_PREFIX/$file" ] || continue
  case " $BACKED_UP " in *" $file "*) continue ;; esac
  printf '%s\n' "    - Backing up file '$INSTALL_PREFIX/$file' to '$BACKUP_DIR/$file'"
  BACKED_UP="$BACKED_UP $file"
done
mkdir -p "$BACKUP_DIR"
cd "$INSTALL_PREFIX"
# Same relative paths, same modes (the config files stay 0600).
# shellcheck disable=SC2086
cp -p --parents -- $BACKED_UP "$BACKUP_DIR/"
printf '%s\n' "📦 Backup directory: $BACKUP_DIR/"
printf '%s\n' "🚀 Updating OpenVidu from $CURRENT_VERSION to $OPENVIDU_VERSION"

delay=${LAB_INSTALLER_DELAY:-0}
if [ -r "$LAB/updater-delay" ]; then read -r delay < "$LAB/updater-delay"; fi
case $delay in 0|0.0|0.00|0.000|'') ;; *) sleep "$delay" ;; esac

# ---- the layout migration: .env -> config/cluster/openvidu.env, master_node/meet.env, config/node/<role>.env ----------
# Exactly the keys the current-generation installer stand-in writes, in its order, with the values .env held.
if [ "$MIGRATE" = true ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      [A-Z]*=*)
        key=${line%%=*}
        case $key in *[!A-Z0-9_]*) continue ;; esac
        value=${line#*=}
        eval "ENV_$key=\$value"
        ;;
    esac
  done < "$INSTALL_PREFIX/.env"

  # The default app module became OpenVidu Meet.
  NEW_MODULES=''
  old_ifs=$IFS; IFS=,
  # shellcheck disable=SC2086
  set -- ${ENV_ENABLED_MODULES:-}
  IFS=$old_ifs
  for module in "$@"; do
    [ "$module" != app ] || module=openviduMeet
    NEW_MODULES=$NEW_MODULES${NEW_MODULES:+,}$module
  done

  masters() {
    printf '%s\n' "MASTER_NODE_1_PRIVATE_IP=${ENV_MASTER_NODE_1_PRIVATE_IP:-}" "MASTER_NODE_2_PRIVATE_IP=${ENV_MASTER_NODE_2_PRIVATE_IP:-}" \
      "MASTER_NODE_3_PRIVATE_IP=${ENV_MASTER_NODE_3_PRIVATE_IP:-}" "MASTER_NODE_4_PRIVATE_IP=${ENV_MASTER_NODE_4_PRIVATE_IP:-}"
  }

  if [ "$ROLE" = master-node ]; then
    set -- "$INSTALL_PREFIX/config/cluster/master_node" "$INSTALL_PREFIX/config/node"
  else
    set -- "$INSTALL_PREFIX/config/node"
  fi
  missing_dirs=''
  for dir in "$@"; do [ -d "$dir" ] || missing_dirs="$missing_dirs $dir"; done
  # shellcheck disable=SC2086
  [ -z "$missing_dirs" ] || mkdir -p $missing_dirs

  # The config files hold every secret: owner only.
  umask 077
  if [ "$ROLE" = master-node ]; then
    printf '%s\n' \
      "DOMAIN_NAME=${ENV_DOMAIN_OR_PUBLIC_IP:-}" \
      "LIVEKIT_TURN_DOMAIN_NAME=${ENV_LIVEKIT_TURN_DOMAIN_NAME:-}" \
      "OPENVIDU_PRO_LICENSE=${ENV_OPENVIDU_PRO_LICENSE:-}" \
      "OPENVIDU_RTC_ENGINE=${ENV_OPENVIDU_RTC_ENGINE:-}" \
      "ENABLED_MODULES=$NEW_MODULES" \
      "LIVEKIT_API_KEY=${ENV_LIVEKIT_API_KEY:-}" \
      "LIVEKIT_API_SECRET=${ENV_LIVEKIT_API_SECRET:-}" \
      "MINIO_ACCESS_KEY=${ENV_MINIO_ACCESS_KEY:-}" \
      "MINIO_SECRET_KEY=${ENV_MINIO_SECRET_KEY:-}" \
      "MONGO_ADMIN_USERNAME=${ENV_MONGO_ADMIN_USER:-}" \
      "MONGO_ADMIN_PASSWORD=${ENV_MONGO_ADMIN_PASSWORD:-}" \
      "DASHBOARD_ADMIN_USERNAME=${ENV_DASHBOARD_ADMIN_USER:-}" \
      "DASHBOARD_ADMIN_PASSWORD=${ENV_DASHBOARD_ADMIN_PASSWORD:-}" \
      "GRAFANA_ADMIN_USERNAME=${ENV_GRAFANA_ADMIN_USER:-}" \
      "GRAFANA_ADMIN_PASSWORD=${ENV_GRAFANA_ADMIN_PASSWORD:-}" > "$INSTALL_PREFIX/config/cluster/openvidu.env"
    printf '%s\n' \
      "MEET_INITIAL_ADMIN_USER=${ENV_MEET_INITIAL_ADMIN_USER:-admin}" \
      "MEET_INITIAL_ADMIN_PASSWORD=${ENV_MEET_INITIAL_ADMIN_PASSWORD:-}" \
      "MEET_INITIAL_API_KEY=${ENV_MEET_INITIAL_API_KEY:-}" > "$INSTALL_PREFIX/config/cluster/master_node/meet.env"
    {
      printf '%s\n' "REDIS_PASSWORD=${ENV_REDIS_PASSWORD:-}"
      masters
    } > "$INSTALL_PREFIX/config/node/master_node.env"
  else
    {
      printf '%s\n' "MEDIA_NODE_PRIVATE_IP=${ENV_MEDIA_NODE_PRIVATE_IP:-${LAB_NODE_ADDRESS:-}}" \
        "MEDIA_NODE_PUBLIC_IP=${ENV_MEDIA_NODE_PUBLIC_IP:-}"
      masters
      printf '%s\n' "REDIS_PASSWORD=${ENV_REDIS_PASSWORD:-}"
    } > "$INSTALL_PREFIX/config/node/media_node.env"
  fi
  umask 022
  MODULES=$NEW_MODULES
fi

# Fault (LabNode.FailUpdater): the updater dies here. The backup is made and, on the migrating hop, the new config files
# are written; .env is still there and deployment-info.yaml (and the lab's installed) still say the old version.
if [ -r "$LAB/updater-fail" ]; then
  while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done < "$LAB/updater-fail" >&2
  exit 1
fi

if [ "$MIGRATE" = true ]; then rm -f -- "$INSTALL_PREFIX/.env"; fi

# The new version, in the line the version was read from; the rest of the file as it was.
info=''
replaced=''
while IFS= read -r line || [ -n "$line" ]; do
  if [ -z "$replaced" ]; then
    case $line in *version*) line="version: \"$OPENVIDU_VERSION\""; replaced=1 ;; esac
  fi
  info="$info$line
"
done < "$INFO"
printf '%s' "$info" > "$INFO"

if env_layout "$OPENVIDU_VERSION"; then GENERATION=3.0; else GENERATION=current; fi
{
  echo "ROLE=$ROLE"
  echo "VERSION=$OPENVIDU_VERSION"
  echo "GENERATION=$GENERATION"
  echo "MODULES=$MODULES"
} > "$LAB/installed"

printf '%s\n' "OpenVidu updated successfully to $OPENVIDU_VERSION"
