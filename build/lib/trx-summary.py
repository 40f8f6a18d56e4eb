#!/usr/bin/python3
"""Summarise the .trx (and JUnit XML) files of one build/test run.

    trx-summary.py RESULTS_DIR PROJECT=EXIT_CODE...

For each PROJECT (the test project's name, whose results are RESULTS_DIR/PROJECT.trx or, when there
is none, RESULTS_DIR/PROJECT.junit.xml as node --test writes for the JavaScript packages) prints its
counts, or why it has none, then the failed tests, and as the very last line exactly
"N passed, N failed, N skipped" for the whole run.

Exit status: 0 when at least one test ran and nothing failed; 1 when a test failed, a project
errored (non-zero exit without a failed test, missing or unreadable results, aborted run) or no
test ran at all.
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


def read_junit(path):
    """(passed, failed, skipped, failed test names, run outcome) of one JUnit XML file.

    Every testcase element counts once, however deeply its testsuites nest: with a failure or error
    child it failed, with a skipped child (node's skip and todo) it was skipped, otherwise it passed.
    A failed name is its suites' names and its own, joined by " > ". JUnit has no run outcome: "".
    """
    passed = failed = skipped = 0
    failed_names = []

    def walk(element, suites):
        nonlocal passed, failed, skipped
        for child in element:
            tag = local(child.tag)
            if tag == "testsuite":
                walk(child, suites + [child.get("name", "?")])
            elif tag == "testcase":
                kinds = {local(c.tag) for c in child}
                if kinds & {"failure", "error"}:
                    failed += 1
                    failed_names.append(" > ".join(suites + [child.get("name", "?")]))
                elif "skipped" in kinds:
                    skipped += 1
                else:
                    passed += 1

    root = ET.parse(path).getroot()
    # The root is <testsuites>, or a single <testsuite> in some producers.
    walk([root] if local(root.tag) == "testsuite" else root, [])
    return passed, failed, skipped, failed_names, ""


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
        reader = read_trx
        if not os.path.isfile(path):
            junit = os.path.join(results_dir, name + ".junit.xml")
            if not os.path.isfile(junit):
                rows.append((name, f"ERROR  no results ({path} and {junit} missing; exit code {code})"))
                errored.append(name)
                continue
            path, reader = junit, read_junit
        try:
            passed, failed, skipped, names, outcome = reader(path)
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
            why = f"run outcome {outcome}, " if outcome else ""  # JUnit files have no run outcome
            line += f"   ERROR  {why}exit code {code}"
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
