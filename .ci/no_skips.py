"""Fails the CI run when any test of the suite was skipped: a skipped test counts as a failed one.

Usage: python .ci/no_skips.py JUNIT_XML   (the report of `pytest --junitxml=JUNIT_XML`).
Lists each skipped test with its reason and exits 1; exits 0 when every collected test ran.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def skipped_tests(report: Path) -> list[str]:
    """``classname::name: reason`` of every skipped (or xfailed) test case in a JUnit XML report."""
    root = ET.parse(report).getroot()
    found = []
    for case in root.iter("testcase"):
        for skipped in case.findall("skipped"):
            message, text = skipped.get("message") or "", (skipped.text or "").strip()
            reason = text if message in text else f"{message} {text}".strip()  # text: where, and why
            where = "::".join(part for part in (case.get("classname"), case.get("name")) if part)
            found.append(f"{where}: {reason or 'no reason given'}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: no_skips.py JUNIT_XML", file=sys.stderr)
        return 2
    report = Path(argv[0])
    if not report.is_file():
        print(f"no test report at {report}: did pytest run?", file=sys.stderr)
        return 1
    skipped = skipped_tests(report)
    tests = sum(1 for _ in ET.parse(report).getroot().iter("testcase"))
    if skipped:
        print(f"CI fails: {len(skipped)} of {tests} tests were skipped (a skipped test counts as failed):",
              file=sys.stderr)
        for line in skipped:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"no test skipped ({tests} tests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
