#!/usr/bin/env python3
"""Prints one row per folder from a Stryker JSON report (mutation-testing-report-schema).

usage: mutation_table.py [--survivors] report.json FOLDER_OR_FILE...

Folders and files are relative to the mutated project (src/OpenViduHa.Core). Score = (killed + timeout) / valid
mutants, valid = killed + timeout + survived + no coverage (compile and runtime errors and ignored mutants are not
valid: they never ran against the tests), as Stryker and mutation-testing-elements count it.
"""
import json
import os
import sys

TARGET = 80.0


def main(argv):
    survivors = "--survivors" in argv
    args = [a for a in argv if a != "--survivors"]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    report_path, folders = args[0], args[1:]
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    root = report.get("projectRoot") or ""

    def relative(path):
        return os.path.relpath(path, root) if root and os.path.isabs(path) else path

    def owner(rel):
        for folder in folders:
            if rel == folder or rel.startswith(folder.rstrip("/") + "/"):
                return folder
        return None

    rows = {folder: dict.fromkeys(("Killed", "Survived", "NoCoverage", "Timeout", "Errors", "Ignored"), 0) for folder in folders}
    left = []
    for path, data in sorted(report["files"].items()):
        rel = relative(path)
        folder = owner(rel)
        if folder is None:
            continue
        for m in data["mutants"]:
            status = m["status"]
            key = "Errors" if status in ("CompileError", "RuntimeError") else status
            if key in rows[folder]:
                rows[folder][key] += 1
            if status in ("Survived", "NoCoverage"):
                start = m["location"]["start"]
                left.append((rel, start["line"], start["column"], status, m["mutatorName"], m.get("replacement", "")))

    header = ("folder", "mutants", "killed", "survived", "no coverage", "timeout", "compile/runtime errors", "ignored", "score")
    lines = []
    total = dict.fromkeys(rows[folders[0]], 0) if folders else {}
    for folder in folders:
        r = rows[folder]
        for k in total:
            total[k] += r[k]
        lines.append(row(folder, r))
    lines.append(row("**all**", total))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in lines:
        print("| " + " | ".join(line) + " |")

    below = [f for f in folders if score(rows[f]) is not None and score(rows[f]) < TARGET]
    print()
    print(f"Below {TARGET:.0f} %: {', '.join(below)}" if below else f"Every folder at {TARGET:.0f} % or more.")

    if survivors:
        print()
        print(f"Survived or not covered ({len(left)}):")
        for rel, line, column, status, mutator, replacement in left:
            text = " ".join(replacement.split())
            if len(text) > 100:
                text = text[:97] + "..."
            print(f"  {rel}:{line}:{column}  {status:<10} {mutator}: {text}")
    return 0


def score(r):
    valid = r["Killed"] + r["Timeout"] + r["Survived"] + r["NoCoverage"]
    return None if valid == 0 else 100.0 * (r["Killed"] + r["Timeout"]) / valid


def row(name, r):
    mutants = sum(r.values())
    s = score(r)
    return (name, str(mutants), str(r["Killed"]), str(r["Survived"]), str(r["NoCoverage"]), str(r["Timeout"]),
            str(r["Errors"]), str(r["Ignored"]), "n/a" if s is None else f"{s:.1f} %")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
