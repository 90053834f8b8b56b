"""The docs' tables render as tables: each starts with a header and its separator
row, and every row has as many cells as the header (a paragraph or a stray line in
the middle of a table turns the rows after it into one run-on line)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTS = sorted(["README.md", *(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))])
SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")


def cells(row: str) -> int:
    """Cells of a table row: pipes that are not escaped and not inside `code`."""
    outside_code = re.sub(r"`[^`]*`", "", row.strip())
    return len(re.split(r"(?<!\\)\|", outside_code.strip("|")))


def tables(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, rows) of each run of lines that start with a pipe, outside code blocks."""
    found, current, start, fenced = [], [], 0, False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            start = start if current else number
            current.append(line)
            continue
        if current:
            found.append((start, current))
            current = []
    if current:
        found.append((start, current))
    return found


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_table_has_a_header_and_rows_of_its_width(document):
    for start, rows in tables((ROOT / document).read_text()):
        assert len(rows) >= 2 and SEPARATOR.match(rows[1]), f"{document}:{start}: a table without a header row"
        width = cells(rows[0])
        for offset, row in enumerate(rows):
            assert cells(row) == width, f"{document}:{start + offset}: {cells(row)} cells, the header has {width}"


def test_a_broken_table_is_caught():
    broken = "| a | b |\n|---|---|\n| 1 | 2 |\n\nA paragraph.\n| 3 | 4 |\n| 5 | 6 | 7 |\n"
    found = tables(broken)
    assert [len(rows) for _, rows in found] == [3, 2]
    assert not SEPARATOR.match(found[1][1][1])
