#!/usr/bin/env bash
# Installs what the tests need (Debian packages, NuGet packages) and runs every test.
# The tests use real parts: nginx with its stream module, HAProxy, OpenSSH, Chromium, docker-compose (config check only),
# and from npm (tests/node, pinned by its package-lock.json) axe-core and Redocly's CLI.
set -euo pipefail
cd "$(dirname "$0")"

packages=(nginx libnginx-mod-stream haproxy openssh-client openssh-server sudo python3 python3-cryptography util-linux chromium docker-compose sqlite3 postgresql openssl curl iproute2)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# Node.js and npm come with the machine (Node 20); Debian's are the fallback where they do not.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dotnet tool restore >/dev/null
dotnet restore OpenViduHa.sln
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
dotnet build OpenViduHa.sln --no-restore -c Debug -warnaserror

# The suites start hundreds of jobs: the panel's workers look for queued ones every 100 ms here, not every second.
export Jobs__QueuePollInterval=00:00:00.100

results="$(mktemp -d)"
status=0
# One test assembly at a time (-m:1): the lab, browser and install suites each load both cores; run together on a
# small machine they starve each other into timeouts.
dotnet test OpenViduHa.sln --no-build -c Debug -m:1 --logger "trx" --results-directory "$results" "$@" || status=$?

# One closing line over every test assembly, from the TRX files.
passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
rm -rf "$results"
echo "tests: $passed passed, $failed failed"
exit $status
