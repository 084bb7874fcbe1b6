"""Invitation rows read from an uploaded CSV (or from its preview): the file's shape, bounds and duplicates."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from . import bounds

COLUMNS = ("name", "email", "role", "timezone")
MAX_CSV_BYTES = 512 * 1024  # well inside the request limit (bounds.MAX_BODY_BYTES) with the form around it
MAX_CSV_ROWS = 500
MAX_CELL = 254  # the longest value any column takes (an address)


@dataclass
class InvitationRow:
    """One person to invite, as the file gave them, with what is wrong (problems) or worth knowing (notes)."""

    line: int
    name: str
    email: str
    role: str
    timezone: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class CsvRows:
    """The rows of a file, or the one sentence saying why the file as a whole cannot be read."""

    rows: list[InvitationRow]
    problem: str | None = None


HEADER_SENTENCE = "The first row must be the header name,email,role,timezone"
NOT_READABLE_AGAIN = "The preview could not be read back. Upload the file again."


def read_csv(data: bytes) -> CsvRows:
    """Read an uploaded file: UTF-8 (with or without a BOM), a header row, at most MAX_CSV_ROWS people."""
    if len(data) > MAX_CSV_BYTES:
        return CsvRows([], f"The file is larger than {MAX_CSV_BYTES // 1024} KiB. "
                           "Split it into smaller files and upload each one.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return CsvRows([], "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
    if not text.strip():
        return CsvRows([], "The file is empty. Add the header row name,email,role,timezone and one row per person.")
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return CsvRows([], f"The file could not be read as CSV ({exc}). Check its quotes and upload it again.")
    header = [cell.strip().lower() for cell in lines[0]]
    while header and not header[-1]:
        header.pop()
    if sorted(header) != sorted(COLUMNS) or len(header) != len(COLUMNS):
        shown = ",".join(lines[0])[:80]
        return CsvRows([], f"{HEADER_SENTENCE} (it is “{shown}”). Fix it and upload the file again.")
    order = [header.index(column) for column in COLUMNS]
    rows: list[InvitationRow] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(rows) == MAX_CSV_ROWS:
            return CsvRows([], f"The file has more than {MAX_CSV_ROWS} people. "
                               "Split it into smaller files and upload each one.")
        rows.append(_row(number, cells, order))
    if not rows:
        return CsvRows([], "The file has a header but nobody to invite. Add one row per person.")
    mark_duplicates(rows)
    return CsvRows(rows)


def _row(line: int, cells: list[str], order: list[int]) -> InvitationRow:
    while len(cells) > len(COLUMNS) and not cells[-1].strip():
        cells = cells[:-1]  # spreadsheets add empty cells at the end
    row = _checked_row(line, [cells[i] if i < len(cells) else "" for i in order])
    if len(cells) != len(COLUMNS):
        row.problems.insert(0, f"This row has {len(cells)} cells; it needs 4 (name, email, role, timezone).")
    return row


def _checked_row(line: int, values: list[str]) -> InvitationRow:
    """Make a row of four cells, noting any cell too long or holding a character that cannot be stored."""
    values = [value.strip() for value in values]
    name, email, role, timezone = (value[:MAX_CELL] for value in values)
    row = InvitationRow(line, name, email, role, timezone)
    for column, value in zip(COLUMNS, values, strict=True):
        problem = bounds.text_problem(value, column)
        if problem:
            row.problems.append(problem)
        elif len(value) > MAX_CELL:
            row.problems.append(f"The {column} is longer than {MAX_CELL} characters.")
    return row


def mark_duplicates(rows: list[InvitationRow]) -> None:
    """Add a problem to every row whose address an earlier row of the same file already has."""
    first_line: dict[str, int] = {}
    for row in rows:
        key = row.email.strip().lower()
        if not key:
            continue
        if key in first_line:
            row.problems.append(f"This address is also on row {first_line[key]}; invite each person once.")
        else:
            first_line[key] = row.line


def payload_of(rows: list[InvitationRow]) -> str:
    """Write rows for the preview's hidden field, to be read back (and checked again) on confirmation."""
    return json.dumps([[r.line, r.name, r.email, r.role, r.timezone] for r in rows], ensure_ascii=False,
                      separators=(",", ":"))


def read_payload(text: str) -> CsvRows:
    """Read back the rows a preview carried; anything but what payload_of writes is refused as a whole."""
    if not text or len(text) > bounds.MAX_BODY_BYTES or bounds.text_problem(text, "preview"):
        return CsvRows([], NOT_READABLE_AGAIN)
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        return CsvRows([], NOT_READABLE_AGAIN)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CSV_ROWS:
        return CsvRows([], NOT_READABLE_AGAIN)
    rows: list[InvitationRow] = []
    for item in items:
        if (not isinstance(item, list) or len(item) != 5 or type(item[0]) is not int
                or not 2 <= item[0] <= bounds.INT32_MAX or not all(isinstance(v, str) for v in item[1:])):
            return CsvRows([], NOT_READABLE_AGAIN)
        rows.append(_checked_row(item[0], item[1:]))
    mark_duplicates(rows)
    return CsvRows(rows)
