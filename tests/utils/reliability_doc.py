"""Write docs/reliability.md from the matrices in tests/integration/reliability.py.

usage: python tests/utils/reliability_doc.py

tests/integration/test_reliability.py fails when the committed page differs
from what this writes, so the page always says what the tests run.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration import reliability  # noqa: E402  pylint: disable=wrong-import-position

TARGET = ROOT / "docs" / "reliability.md"

TITLES = {
    "fault": "Fault matrix",
    "abuse": "Abuse matrix",
}
PROMISES = {
    "fault": "Each case either succeeds or fails with a clear message, never a traceback or a silent truncation, "
             "and a rerun converges.",
    "abuse": "Each case is refused before anything is sent, or answered safely; no secret appears anywhere.",
}


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def render():
    lines = [
        "# Reliability and security",
        "",
        "Every module and the role keep their promises under faults and bad input. The two matrices below are the",
        "cases the integration tests run against the LEM simulator (`make test`), one test per row. This page is",
        "generated from `tests/integration/reliability.py` by `python tests/utils/reliability_doc.py`;",
        "`test_the_report_is_generated_from_the_matrices` fails when it differs, so it cannot drift from the tests.",
        "",
        "Unless a row says otherwise, a case runs with `retries: 1`. Every run is also checked for what must never",
        "happen: a traceback (or the collection's \"Unexpected failure\" sentence), an upload-complete after a failed",
        "storage PUT, and the token or its Basic form in a result.",
        "",
    ]
    for matrix, rows in reliability.MATRICES:
        lines += ["## %s (%d cases)" % (TITLES[matrix], len(rows)), "", PROMISES[matrix], ""]
        areas = []
        for row in rows:
            if row.area not in areas:
                areas.append(row.area)
        for area in areas:
            chosen = [row for row in rows if row.area == area]
            lines += ["### %s (%d)" % (area[0].upper() + area[1:], len(chosen)), "",
                      "| case | expected | tested by |", "|---|---|---|"]
            lines += ["| %s | %s | `%s` |" % (cell(row.case), cell(row.expected), row.node_id(matrix)) for row in chosen]
            lines.append("")
    faults, abuse = (len(rows) for _matrix, rows in reliability.MATRICES)
    lines += [
        "## Counts, and what the matrices found",
        "",
        "%d cases: %d in the fault matrix, %d in the abuse matrix." % (faults + abuse, faults, abuse),
        "",
        "What the matrices found, and what was fixed:",
        "",
        "| problem | before | after | rows |",
        "|---|---|---|---|",
    ]
    lines += ["| %s | %s | %s | %s |" % (cell(problem), cell(before), cell(after), cell(rows))
              for problem, before, after, rows in reliability.FIXES]
    lines.append("")
    return "\n".join(lines)


def main():
    TARGET.write_text(render(), encoding="utf-8")
    print(TARGET)


if __name__ == "__main__":
    main()
