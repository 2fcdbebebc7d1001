"""JUnit XML for CI dashboards: one test case per parameter and engine pair.

CI systems (GitHub Actions reporters, GitLab, Jenkins) list JUnit test cases
individually, so a failing check shows up as e.g. ``Whh tutorial↔reference``
with the worst element in its failure message. Standard library only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from .prose import describe_failure, not_compared_reason
from .report import Report, status


def to_xml(report: Report) -> str:
    """The report as a JUnit ``<testsuites>`` document; a pair with nothing compared for a
    parameter (screened only by --directions) is a skipped test case, not a pass, and with
    --impl the verdict on the user's code (loss, gradient, what else it returns) is a case."""
    impl = report.impl
    failures = sum(not c.passed for c in report.comparisons) + int(impl is not None
                                                                   and not impl.passed)
    skipped = len(report.not_compared())
    total = str(len(report.comparisons) + int(impl is not None))
    suites = ET.Element("testsuites", name="bpttcheck", tests=total,
                        failures=str(failures), errors="0", skipped=str(skipped))
    p = report.problem
    suite = ET.SubElement(
        suites, "testsuite",
        name=f"bpttcheck hidden={p.hidden} seq={p.batch.seq} vocab={p.vocab}",
        tests=total, failures=str(failures), errors="0", skipped=str(skipped),
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in report.spec.to_dict().items():
        ET.SubElement(properties, "property", name=key, value=str(value))
    for c in report.comparisons:
        case = ET.SubElement(suite, "testcase", classname=f"bpttcheck.{c.a}_vs_{c.b}",
                             name=f"{c.parameter} {c.a}↔{c.b}")
        if not c.compared:
            ET.SubElement(case, "skipped", message=not_compared_reason(report, c))
        elif not c.passed:
            message = describe_failure(c)
            failure = ET.SubElement(case, "failure", message=message, type="GradientMismatch")
            failure.text = message
        else:
            out = ET.SubElement(case, "system-out")
            out.text = (f"status={status(c)} max_rel_error={c.max_rel_error:.3e} "
                        f"norm_rel_error={c.norm_rel_error:.3e} compared={c.compared} "
                        f"clipped={c.clipped} precision_limited={c.precision_limited}")
    if impl is not None:
        case = ET.SubElement(suite, "testcase", classname="bpttcheck.impl",
                             name=f"{impl.target}: "
                             + ("loss, " if getattr(impl, "returns_loss", True) else "")
                             + "gradient and returned values")
        if not impl.passed:
            message = " ".join([impl.verdict, *impl.findings])
            failure = ET.SubElement(case, "failure", message=message, type="UserCodeWrong")
            failure.text = "\n".join([impl.verdict, *impl.findings])
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write(report: Report, path: str | Path) -> None:
    """Write :func:`to_xml` to ``path`` (``--junit FILE``), atomically."""
    from .outputs import write_text

    write_text("--junit", path, to_xml(report))
