#!/usr/bin/python3
"""Summarise the .trx files of one build/test run.

    trx-summary.py RESULTS_DIR PROJECT=EXIT_CODE...

For each PROJECT (the test project's name, whose results are RESULTS_DIR/PROJECT.trx) prints its
counts, or why it has none, then the failed tests, and as the very last line exactly
"N passed, N failed, N skipped" for the whole run.

Exit status: 0 when at least one test ran and nothing failed; 1 when a test failed, a project
errored (non-zero exit without a failed test, missing or unreadable .trx, aborted run) or no test
ran at all.
"""

import os
import sys
import xml.etree.ElementTree as ET

FAILED = {"Failed", "Error", "Timeout", "Aborted"}
PASSED = {"Passed", "PassedButRunAborted"}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def read_trx(path):
    """(passed, failed, skipped, failed test names, run outcome) of one .trx file."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    failed_names = []
    for results in (e for e in root if local(e.tag) == "Results"):
        for result in results:
            if local(result.tag) != "UnitTestResult":
                continue
            outcome = result.get("outcome", "")
            if outcome in PASSED:
                passed += 1
            elif outcome in FAILED:
                failed += 1
                failed_names.append(result.get("testName", "?"))
            else:  # NotExecuted (ignored/skipped), Inconclusive, ...
                skipped += 1
    outcome = ""
    for summary in (e for e in root if local(e.tag) == "ResultSummary"):
        outcome = summary.get("outcome", "")
    return passed, failed, skipped, failed_names, outcome


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results_dir = argv[1]
    total_passed = total_failed = total_skipped = 0
    errored = []
    failures = []
    rows = []
    for spec in argv[2:]:
        name, _, code = spec.rpartition("=")
        code = int(code) if code.lstrip("-").isdigit() else 1
        path = os.path.join(results_dir, name + ".trx")
        if not os.path.isfile(path):
            rows.append((name, f"ERROR  no results ({path} missing; exit code {code})"))
            errored.append(name)
            continue
        try:
            passed, failed, skipped, names, outcome = read_trx(path)
        except (ET.ParseError, OSError) as exc:
            rows.append((name, f"ERROR  unreadable results: {exc}"))
            errored.append(name)
            continue
        total_passed += passed
        total_failed += failed
        total_skipped += skipped
        failures.extend(f"{name}: {n}" for n in names)
        line = f"{passed:5d} passed {failed:5d} failed {skipped:5d} skipped"
        if failed == 0 and (code != 0 or outcome in ("Error", "Aborted", "Failed")):
            line += f"   ERROR  run outcome {outcome or '?'}, exit code {code}"
            errored.append(name)
        elif passed + failed + skipped == 0:
            line += "   (no tests)"
        rows.append((name, line))

    width = max((len(n) for n, _ in rows), default=10)
    print()
    print("Test results")
    for name, line in rows:
        print(f"  {name:<{width}}  {line}")
    if failures:
        print()
        print("Failed tests")
        for f in failures[:200]:
            print(f"  {f}")
        if len(failures) > 200:
            print(f"  ... and {len(failures) - 200} more")
    if errored:
        print()
        print("Projects that errored: " + ", ".join(errored))
    if total_passed + total_failed == 0:
        print()
        print("No test ran.")
    print(f"{total_passed} passed, {total_failed} failed, {total_skipped} skipped")
    ok = total_failed == 0 and not errored and total_passed + total_failed > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
