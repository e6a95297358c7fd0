"""Conformance reports as text for a terminal, JSON, and JUnit XML for a partner's CI.

Each takes [(file name, ConformanceReport or the error that made the file unreadable)].
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from app.errors import HubError
from app.validation.report import ConformanceReport
from app.errors import Result
from app.validation.terms import short_path


def describe(report: ConformanceReport) -> str:
    """One line: the verdict, the release, the profile and the counts."""
    verdict = "conforms" if report.conforms else "does not conform"
    return (f"{verdict} (DFC {report.dfc_version}, profile {report.profile}; "
            f"{len(report.violations)} violation(s), {len(report.warnings)} warning(s))")


def item_lines(r: Result) -> list[str]:
    """A result as two lines: what is wrong where, then the hint."""
    where = " ".join(x for x in (r.focus, short_path(r.path) if r.path else None) if x)
    value = f" = {r.value!r}" if r.value is not None else ""
    return [f"{r.severity} [{r.hint_code}] {where}{value}: {r.message}", f"  hint: {r.hint}"]


def to_text(outcomes) -> str:
    lines = []
    for name, outcome in outcomes:
        if not isinstance(outcome, ConformanceReport):
            lines.append(f"{name}: unreadable: {_error(outcome)}")
            continue
        lines.append(f"{name}: {describe(outcome)}")
        for r in outcome.results:
            lines += ["  " + line for line in item_lines(r)]
    return "\n".join(lines)


def to_json(outcomes) -> str:
    """A JSON array: each file's report as the endpoint answers it, or its error."""
    return json.dumps([{"file": name, **(o.to_json() if isinstance(o, ConformanceReport) else {"error": _error(o)})}
                       for name, o in outcomes], indent=2, ensure_ascii=False)


def to_junit(outcomes) -> str:
    """One test case a file: a failure per non-conforming file, an error per unreadable one."""
    suite = ET.Element("testsuite", name="dfc-conformance", tests=str(len(outcomes)))
    failures = errors = 0
    for name, outcome in outcomes:
        case = ET.SubElement(suite, "testcase", classname="dfc.conformance", name=name)
        if not isinstance(outcome, ConformanceReport):
            errors += 1
            ET.SubElement(case, "error", message=f"unreadable: {_error(outcome)}", type="unreadable")
            continue
        details = "\n".join(line for r in outcome.results for line in item_lines(r))
        if not outcome.conforms:
            failures += 1
            failure = ET.SubElement(case, "failure", type="Violation",
                                    message=f"{len(outcome.violations)} violation(s): {describe(outcome)}")
            failure.text = details
        elif details:
            ET.SubElement(case, "system-out").text = details
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites", tests=str(len(outcomes)), failures=str(failures), errors=str(errors))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _error(e: Exception) -> str:
    return e.detail if isinstance(e, HubError) else str(e)
