#!/usr/bin/env bash
# Mutation score of the Core project's safety-critical folders (issue 9): Stryker.NET mutates
# src/OpenViduHa.Core, runs the fast suite (tests/OpenViduHa.Core.Tests) against each mutant and this script prints
# one row per folder. Slow (tens of minutes on 2 cores): not part of CI. See bench/README.md, "Mutation score".
#
#   bench/mutation.sh                          every folder below
#   bench/mutation.sh --folder Jobs            one folder (repeatable), or one file: --folder Jobs/JobRules.cs
#   bench/mutation.sh --concurrency 1          test sessions at once (default 2)
#   bench/mutation.sh --folder Jobs --tests Jobs   only the tests under tests/OpenViduHa.Core.Tests/Jobs (repeatable):
#                                              a lower bound of the score, for folders every job test covers
#   bench/mutation.sh --table [report.json]    print the table (and the survivors) of the last run again, run nothing
#   bench/mutation.sh --survivors              also list each surviving or uncovered mutant (file:line, mutation)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

stryker_version=5.1.0
tools="$root/bench/.tools"
out="$root/bench/.mutation"
# The folders (or single files) of src/OpenViduHa.Core that issue 9 names as safety-critical.
default_folders=(Ssh Jobs Install Credentials Secrets Clusters Artifacts Status/HealthRules.cs)

folders=()
concurrency=2
table_only=""
report=""
survivors=""
tests=()
while (($#)); do
  case "$1" in
    --folder) folders+=("${2:?--folder needs a folder or file of src/OpenViduHa.Core}"); shift 2 ;;
    --concurrency) concurrency="${2:?--concurrency needs a number}"; shift 2 ;;
    --table) table_only=1; shift; if (($#)) && [[ "$1" != --* ]]; then report="$1"; shift; fi ;;
    --survivors) survivors=1; shift ;;
    --tests) tests+=("${2:?--tests needs a folder of tests/OpenViduHa.Core.Tests}"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
((${#folders[@]})) || folders=("${default_folders[@]}")
for f in "${folders[@]}"; do
  [ -e "src/OpenViduHa.Core/$f" ] || { echo "no such folder or file: src/OpenViduHa.Core/$f" >&2; exit 2; }
done

table() {
  local args=("$1" "${folders[@]}")
  [ -n "$survivors" ] && args=(--survivors "${args[@]}")
  python3 "$root/bench/mutation_table.py" "${args[@]}"
}

if [ -n "$table_only" ]; then
  report="${report:-$out/reports/mutation-report.json}"
  [ -f "$report" ] || { echo "no report at $report: run bench/mutation.sh first" >&2; exit 2; }
  table "$report"
  exit 0
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if [ ! -x "$tools/dotnet-stryker" ] || ! "$tools/dotnet-stryker" --version 2>/dev/null | grep -q "$stryker_version"; then
  echo "Installing dotnet-stryker $stryker_version into bench/.tools"
  dotnet tool install dotnet-stryker --version "$stryker_version" --tool-path "$tools" >/dev/null
fi
dotnet restore OpenViduHa.sln >/dev/null

# Only the chosen files are mutated: one glob per folder or file (only the Core project is mutated at all).
mutate=()
for f in "${folders[@]}"; do
  if [ -d "src/OpenViduHa.Core/$f" ]; then mutate+=(--mutate "**/OpenViduHa.Core/$f/**/*.cs"); else mutate+=(--mutate "**/OpenViduHa.Core/$f"); fi
done

rm -rf "$out"
mkdir -p "$out"
# The configuration, narrowed to the chosen test folders (namespaces follow folders) when --tests is given.
config="$out/stryker-config.json"
python3 - "$root/bench/stryker-config.json" "$config" "${tests[@]}" <<'PY'
import json, sys
source, target, folders = sys.argv[1], sys.argv[2], sys.argv[3:]
config = json.load(open(source))
if folders:
    inner = config["stryker-config"]
    only = "|".join(f"FullyQualifiedName~OpenViduHa.Core.Tests.{f.replace('/', '.')}." for f in folders)
    inner["test-case-filter"] = f"({inner['test-case-filter']})&({only})"
json.dump(config, open(target, "w"), indent=2)
PY
echo "Stryker $stryker_version on src/OpenViduHa.Core (${folders[*]}), tests/OpenViduHa.Core.Tests${tests:+ (only ${tests[*]})}, concurrency $concurrency"
echo "Log: bench/.mutation/stryker.log"
start=$(date +%s)
status=0
# Stryker builds the projects itself (without -warnaserror: Directory.Build.props keeps NuGet's NU1603 a warning).
(cd src/OpenViduHa.Core &&
  "$tools/dotnet-stryker" --config-file "$config" "${mutate[@]}" \
    --concurrency "$concurrency" --output "$out" --skip-version-check) >"$out/stryker.log" 2>&1 || status=$?
seconds=$(($(date +%s) - start))
grep -E '^\[[0-9:]+ (INF|WRN|ERR)\]' "$out/stryker.log" | grep -v 'Using a concurrency of' || true
if [ "$status" -ne 0 ] || [ ! -f "$out/reports/mutation-report.json" ]; then
  echo "Stryker failed (exit $status): see bench/.mutation/stryker.log" >&2
  tail -n 30 "$out/stryker.log" >&2
  exit 1
fi
printf 'Took %dm%02ds (load average now %s)\n\n' $((seconds / 60)) $((seconds % 60)) "$(cut -d' ' -f1-3 /proc/loadavg)"
table "$out/reports/mutation-report.json"
