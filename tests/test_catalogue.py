"""The finding catalogue owns every message: codes, templates, the call sites, the codes page."""

from __future__ import annotations

import ast
import importlib.util
import json
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from credkit.cli import main
from credkit.findings import _OTHER_TEMPLATES, CATALOGUE, TEMPLATES, Code, finding, message

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in (REPO / "credkit").rglob("*.py") if "migrations" not in p.parts)

#: The codes the row rules emit (credkit/rules.py and schema.py today, the credkit/rules
#: package after issue #12): their templates are the rules package's to write.
RULE_CODES = {
    "missing-key", "unknown-user", "keys-disagree", "no-credential", "multiple-credentials",
    "unknown-card-type", "facility-code-required", "facility-code-not-allowed",
    "facility-code-range", "card-number-range", "not-digits", "scientific-notation",
    "hex-invalid", "hex-parity", "hex-mismatch", "hex-byte-order", "plate-invalid",
    "entry-code-invalid", "entry-code-leading-zeros", "status-invalid", "modified-invalid",
    "stale", "duplicate-in-file", "assigned-to-other-user", "entry-code-in-use",
    "field-too-long", "hex-old-form", "key-unmatched", "name-mismatch", "card-type-alias",
    "hex-prefix", "plate-normalized", "entry-code-replaced", "email-lookalike",
    "hex-leading-zeros", "modified-in-future",
}  # fmt: skip

#: Codes that may still pass a finished message (``text=``) until the rules' templates exist.
TRANSITIONAL_TEXT = {"keys-disagree", "duplicate-in-file", "missing-key", "email-lookalike"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_member_is_catalogued_and_every_code_has_a_member() -> None:
    assert {member.value for member in Code} == set(CATALOGUE)
    assert Code.HEX_PARITY == "hex-parity" and Code("unreadable") is Code.UNREADABLE
    # a rule's template may be a variant of its code ("hex-invalid:too-wide")
    assert {key.split(":", 1)[0] for key in TEMPLATES} <= set(CATALOGUE)
    assert set(CATALOGUE) >= RULE_CODES


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            code,
            marks=pytest.mark.xfail(
                code not in TEMPLATES, reason="filled by the rules package", strict=False
            ),
        )
        if code in RULE_CODES
        else code
        for code in CATALOGUE
    ],
)
def test_every_code_has_a_template(code: str) -> None:
    assert TEMPLATES.get(code), f"{code} has no message template in credkit/findings.py"


def test_codes_outside_the_rules_are_templated_here() -> None:
    assert set(_OTHER_TEMPLATES) == set(CATALOGUE) - RULE_CODES


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_every_template_formats_with_its_fields(code: str) -> None:
    text = message(code, **dict.fromkeys(_fields(TEMPLATES[code]), 12345))
    assert "{" not in text.replace("{fields}", "") and text.strip() == text
    if ":" in code:  # a variant: the rules fill it through their FindingsBuilder
        return
    record = finding(code, **dict.fromkeys(_fields(TEMPLATES[code]) - {"row"}, 1), row=2)
    assert record["severity"] == CATALOGUE[code].severity and record["message"]


def test_a_typo_or_a_missing_value_fails() -> None:
    with pytest.raises(AttributeError):
        Code.HEX_PARTY  # noqa: B018
    with pytest.raises(KeyError):
        finding("hex-party", text="x")
    with pytest.raises(KeyError):
        finding(Code.UNREADABLE, problem="no file")  # todo is missing
    with pytest.raises(TypeError):
        finding(Code.BLANK_ROW, "Row 3 is blank", row=3)  # type: ignore[misc]


def _calls() -> list[tuple[Path, ast.Call, str]]:
    """Every ``finding(...)`` and ``message(...)`` call outside findings.py, with its name."""
    found = []
    for path in SOURCES:
        if path.name == "findings.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {  # the catalogue's functions, not a local variable of the same name
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "credkit.findings"
            for alias in node.names
        } & {"finding", "message"}
        for node in ast.walk(tree):
            is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if is_call and node.func.id in imported:
                found.append((path, node, node.func.id))
    return found


def _code(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    is_member = isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name)
    if is_member and first.value.id == "Code":
        return Code[first.attr].value
    return None


def test_calls_pass_a_code_member_and_values_never_a_message() -> None:
    calls = _calls()
    assert len(calls) > 40  # the scan sees the call sites
    problems = []
    for path, call, name in calls:
        where = f"{path.relative_to(REPO)}:{call.lineno}"
        code = _code(call)
        if code is None:
            problems.append(f"{where}: {name}() without a Code member as its first argument")
            continue
        if len(call.args) > 1:
            problems.append(f"{where}: {name}({code}) with a positional message")
        keywords = {k.arg for k in call.keywords}
        if "message" in keywords:
            problems.append(f"{where}: {name}({code}) with message=")
        if "text" in keywords and (code not in TRANSITIONAL_TEXT or code in TEMPLATES):
            problems.append(f"{where}: {name}({code}) passes text=, but its template is written")
        if "text" in keywords or None in keywords:  # text, or **values: checked when it runs
            continue
        given = keywords | ({"row", "column", "value"} if name == "finding" else set())
        missing = _fields(TEMPLATES[code]) - given
        if missing:
            problems.append(f"{where}: {name}({code}) does not pass {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_every_template_field_is_passed_by_a_call() -> None:
    """No template has a field that no call fills (a field left over from an old wording)."""
    passed: dict[str, set[str]] = {}
    for _, call, name in _calls():
        code = _code(call)
        given = {k.arg for k in call.keywords if k.arg}
        if name == "finding":
            given |= {"row", "column", "value"}
        passed.setdefault(code, set()).update(given)
    for code, template in _OTHER_TEMPLATES.items():
        if code == Code.ENTRY_CODE_WITHHELD:
            continue  # added through the rules' FindingsBuilder (credkit/review.py); no fields
        assert code in passed, f"no call builds a {code} finding"
        splat = code == Code.PROFILE_NO_CARD  # its row, number and system come as **values
        assert splat or _fields(template) <= passed[code], code


def test_finding_messages_come_from_the_catalogue() -> None:
    blank = finding(Code.BLANK_ROW, row=7)
    assert blank["message"] == "Row 7 is blank and was skipped." and blank["row"] == 7
    unreadable = finding(Code.UNREADABLE, problem="it is a PDF", todo="export it as CSV")
    assert unreadable["message"] == (
        "The file cannot be read: it is a PDF; export it as CSV, then read it again."
    )


def test_credkit_codes_lists_the_catalogue() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["codes"])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0].split() == ["code", "severity", "level", "title"]
    assert len(lines) == 1 + len(CATALOGUE)
    assert lines[1].split()[:3] == ["not-utf8", "error", "file"]
    with_templates = runner.invoke(main, ["codes", "--templates"]).output
    assert TEMPLATES["unreadable"] in with_templates
    records = json.loads(runner.invoke(main, ["codes", "--json"]).output)
    assert [r["code"] for r in records] == list(CATALOGUE)
    assert {r["code"]: r["template"] for r in records}["blank-row"] == TEMPLATES["blank-row"]


def test_the_codes_page_is_generated_from_the_catalogue() -> None:
    spec = importlib.util.spec_from_file_location("codes_table", REPO / "tools" / "codes_table.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    page = (REPO / "docs" / "codes.md").read_text(encoding="utf-8")
    assert page == tool.codes_page(), "docs/codes.md is out of date: python tools/codes_table.py"
    assert all(f"| `{code}` |" in page for code in CATALOGUE)
