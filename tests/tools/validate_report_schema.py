#!/usr/bin/python3
"""Validates report.json files against docs/report.schema.json (Debian's python3-jsonschema).

    validate_report_schema.py --schema SCHEMA REPORT.json...
    validate_report_schema.py --schema SCHEMA --memsoak BIN

The first form checks the given files. The second runs two short soaks with BIN and checks what
they wrote: report.json against the schema (one soak samples every allocation's stack so that
leak_suspects is not empty, and runs the heaptrack pass so that the heaptrack object is not null),
and that junit.xml, summary.md and samples.csv agree with it. Both forms first check that the
schema refuses a field it does not list, since that is what makes a new writer field fail here.
Exit 0 when everything holds, 1 with a message per problem otherwise.
"""

import argparse
import copy
import csv
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

import jsonschema


def problems_of(validator, report):
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))]


def check_refuses_unlisted_fields(validator, report):
    """A report with one field too many, at the top and in each kind of object, must not pass."""
    failures = []
    places = [("(top)", lambda r: r)]
    if report["strategies"]:
        places.append(("strategies[0]", lambda r: r["strategies"][0]))
    if report["leak_suspects"]:
        places.append(("leak_suspects[0]", lambda r: r["leak_suspects"][0]))
    if report["heaptrack"] is not None:
        places.append(("heaptrack", lambda r: r["heaptrack"]))
    for where, pick in places:
        extended = copy.deepcopy(report)
        pick(extended)["a_field_the_schema_does_not_list"] = 1
        if validator.is_valid(extended):
            failures.append(f"the schema accepts a field it does not list in {where}")
    return failures


def validate_file(validator, path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    failures = [f"{path}: {p}" for p in problems_of(validator, report)]
    if not failures:
        failures += [f"{path}: {p}" for p in check_refuses_unlisted_fields(validator, report)]
    return report, failures


def check_companions(run_dir, report):
    """junit.xml, summary.md and samples.csv say what report.json says."""
    failures = []
    suite = ElementTree.parse(os.path.join(run_dir, "junit.xml")).getroot().find("testsuite")
    cases = suite.findall("testcase")
    if len(cases) != len(report["strategies"]) or int(suite.get("tests")) != len(cases):
        failures.append(f"{run_dir}/junit.xml: {len(cases)} test cases for {len(report['strategies'])} strategies")
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    if failed != len(report["budget_violations"]):
        failures.append(f"{run_dir}/junit.xml: {failed} failing cases, but the budget gate fails "
                        f"{len(report['budget_violations'])} strategies")
    size = os.path.getsize(os.path.join(run_dir, "summary.md"))
    if size >= 1_000_000:
        failures.append(f"{run_dir}/summary.md: {size} bytes")
    with open(os.path.join(run_dir, "samples.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != sum(s["runs"] for s in report["strategies"]):
        failures.append(f"{run_dir}/samples.csv: {len(rows)} rows for {sum(s['runs'] for s in report['strategies'])} runs")
    return failures


def soak(memsoak, run_dir, extra, allowed_codes):
    command = [memsoak, "run", "--workload", "synthetic", "--strategy", "in-process,fork",
               "--iterations", "60", "--quiet", "--out", run_dir] + extra
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
    if done.returncode not in allowed_codes:
        return [f"{' '.join(command)}: exit {done.returncode}\n{done.stderr}"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--memsoak")
    parser.add_argument("reports", nargs="*")
    args = parser.parse_args()
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    failures = []
    for path in args.reports:
        failures += validate_file(validator, path)[1]
    if args.memsoak:
        with tempfile.TemporaryDirectory(prefix="memsoak-schema-") as scratch:
            plain = os.path.join(scratch, "plain")
            failures += soak(args.memsoak, plain, [], {0})
            # Exit 1 is the budget gate failing, which this soak is meant to make happen.
            leaking = os.path.join(scratch, "leaking")
            failures += soak(args.memsoak, leaking,
                             ["--leak", "dropped:4KiB", "--stack-sample", "0", "--budget", "1KiB",
                              "--profiler", "heaptrack", "--profiler-runs", "10"], {0, 1})
            for run_dir in (plain, leaking):
                if failures:
                    break
                report, problems = validate_file(validator, os.path.join(run_dir, "report.json"))
                failures += problems + check_companions(run_dir, report)
            if not failures:
                report = json.load(open(os.path.join(leaking, "report.json"), encoding="utf-8"))
                if not report["leak_suspects"]:
                    failures.append(f"{leaking}/report.json: no leak suspects, so their schema went unchecked")
                if report["heaptrack"] is None:
                    failures.append(f"{leaking}/report.json: no heaptrack object, so its schema went unchecked")
    for failure in failures:
        print(f"validate_report_schema: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
