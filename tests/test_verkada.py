"""The Verkada Command push, against the loopback emulator of Command's documented API."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from credkit.cli import main
from credkit.connectors.verkada import VerkadaLimits, VerkadaSettings, push_to_verkada
from credkit.directory import Directory, import_runs
from credkit.formats import REGISTRY
from credkit.importer import APPLIED
from credkit.loading import load_export
from credkit.review import ReviewOptions
from tests.emulators.verkada import CommandEmulator, EmulatorLimits, Fault, internal_type_name
from tests.support import ADA, ALAN, HID26, KIM, csv_bytes

KEY = "vkd_test_7f3a9c1e5b"  # a secret: never printed, never stored
GRACE = "44444444-4444-4444-8444-444444444444"
EXPORTED_AT = "2026-11-20T09:30:00Z"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def command() -> Iterator[CommandEmulator]:
    emulator = CommandEmulator(api_key=KEY)
    with emulator.serving() as url:
        emulator.url = url  # type: ignore[attr-defined]
        yield emulator


def settings(command: CommandEmulator, **limits: float) -> VerkadaSettings:
    quick = {"backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05, "timeout_seconds": 2.0}
    return VerkadaSettings(KEY, command.url, VerkadaLimits(**(quick | limits)))  # type: ignore[attr-defined,arg-type]


def export_from(command: CommandEmulator, path: Path, names: dict[str, tuple[str, str]]) -> Path:
    """Command's credentials export of the emulator's organisation, as an operator downloads it."""
    rows = []
    for user in command.users.values():
        person = {"First Name": names[user["user_id"]][0], "Last Name": names[user["user_id"]][1],
                  "User ID": user["user_id"], "External ID": user["external_id"] or "",
                  "Email": user["email"] or "", "Modified": EXPORTED_AT}  # fmt: skip
        status = {True: "Active", False: "Inactive"}
        for card in user["cards"]:
            card_format = REGISTRY.get(card["type"])
            facility = int(card["facility_code"]) if card["facility_code"] else None
            rows.append(person | {
                "Card Type": card_format.name, "Facility Code": card["facility_code"] or "",
                "Card Number": card["card_number"],
                "Card Number Hex": card_format.encode(facility, int(card["card_number"])),
                "Credential Status": status[card["active"]]})  # fmt: skip
        for plate in user["license_plates"]:
            rows.append(person | {"License Plate": plate["license_plate_number"],
                                  "Credential Status": status[plate["active"]]})  # fmt: skip
        if user["entry_code"]:
            rows.append(person | {"Entry Code": user["entry_code"], "Credential Status": "Active"})
    path.write_bytes(csv_bytes(rows))
    return path


def expected_state(
    before: dict[str, tuple[str, bool]], resolved: pd.DataFrame, rows: pd.DataFrame
) -> dict[str, tuple[str, bool]]:
    """What Command must hold once every applied row of the plan is applied exactly once."""
    state = dict(before)
    applied = rows.index[rows["outcome"].isin(APPLIED)]
    for row in applied:
        record = resolved.loc[row]
        if isinstance(record["replaces_entry_code"], str):
            state.pop(record["replaces_entry_code"], None)
        status = record["status"] if isinstance(record["status"], str) else None
        if status is None:
            status = (
                record["existing_status"]
                if isinstance(record["existing_status"], str)
                else "active"
            )
        state[record["credential_key"]] = (record["user_id"], status == "active")
    return state


def small_organisation(command: CommandEmulator, tmp_path: Path, directory: Directory) -> None:
    """Ada, Alan, Grace with credentials (in the export), Kim without (absent from it)."""
    command.add_user(ADA, external_id="E1", email="ada@example.com")
    command.add_user(ALAN, external_id="E2", email="alan@example.com")
    command.add_user(KIM, external_id="E3")
    command.add_user(GRACE, external_id="E4")
    command.give_card(ADA, "HID", 1, 1)
    command.users[ADA]["entry_code"] = "1234"
    command.give_card(ALAN, "HID", 118, 1603)
    command.users[ALAN]["license_plates"].append(
        {"license_plate_number": "ABC123", "name": "", "active": True}
    )
    command.give_card(GRACE, "HID", 5, 5)
    command.users[GRACE]["entry_code"] = "4321"
    names = {ADA: ("Ada", "Lovelace"), ALAN: ("Alan", "Turing"), KIM: ("Kim", "Ng"),
             GRACE: ("Grace", "Hopper")}  # fmt: skip
    export = export_from(command, tmp_path / "command-export.csv", names)
    assert load_export(export, directory, operator="ops").exit_status == 0


def test_a_push_applies_every_planned_change_once_and_a_second_push_writes_nothing(
    command: CommandEmulator, sqlite_directory: Directory, tmp_path: Path
) -> None:
    small_organisation(command, tmp_path, sqlite_directory)
    # Since the export, somebody removed Grace's card in Command.
    command.users[GRACE]["cards"].clear()
    file = tmp_path / "changes.csv"
    ada = {"User ID": ADA}
    file.write_bytes(csv_bytes([
        ada | {"Card Type": "HID", "Facility Code": "2", "Card Number": "2"},  # 2 create
        ada | {"Entry Code": "5678"},  # 3 replaces Ada's 1234
        {"User ID": ALAN, "Card Type": HID26, "Facility Code": "1", "Card Number": "1"},  # 4 reassign
        {"User ID": ALAN, "License Plate": "ABC-123", "Credential Status": "inactive"},  # 5 update
        {"External ID": "E3", "First Name": "Kim", "License Plate": "KIM1"},  # 6 unknown user
        {"User ID": GRACE, "Card Type": HID26, "Facility Code": "5", "Card Number": "5",
         "Credential Status": "Inactive", "Modified": EXPORTED_AT},  # 7 stale
        {"External ID": "E3", "Entry Code": "4321"},  # 8 Grace's code to Kim
    ]))  # fmt: skip
    before = command.credential_owners()
    options = ReviewOptions(reassign=True)
    result = push_to_verkada(file, sqlite_directory, settings(command), operator="ops",
                             options=options)  # fmt: skip
    outcomes = result.rows["outcome"].to_dict()
    assert outcomes == {2: "create", 3: "update", 4: "reassign", 5: "update", 6: "create",
                        7: "fail", 8: "reassign"}  # fmt: skip
    assert "stale" in result.rows.at[7, "reason"]
    assert list(result.failed_rows["Row"]) == ["7"]
    # The emulator holds exactly what the plan says, every change made once.
    assert command.credential_owners() == expected_state(
        before, result.review.resolved, result.rows
    )
    assert command.credential_owners()["card:Standard 26-bit Wiegand:2:2"] == (ADA, True)
    assert "entry_code:1234" not in command.credential_owners()
    written = [(method, path.rsplit("/", 1)[-1]) for method, path, _ in command.writes]
    assert sorted(written) == sorted([
        ("POST", "card"), ("PUT", "entry_code"), ("DELETE", "card"), ("POST", "card"),
        ("PUT", "deactivate"), ("POST", "license_plate"), ("PUT", "entry_code"),
    ])  # fmt: skip
    # The card left its old owner by card_id with the user named.
    (delete,) = [params for method, _, params in command.writes if method == "DELETE"]
    assert delete["user_id"] == ADA and delete["card_id"].startswith("card-")
    # The run is recorded, without the key.
    with sqlite_directory.engine.connect() as conn:
        run = conn.execute(sa.select(import_runs).where(import_runs.c.id == result.run_id)).one()
    assert run.options["to"] == "verkada" and KEY not in json.dumps(run.options)
    assert run.counts["fail"] == 1 and run.finished_at is not None
    from credkit.runs import undo_run

    refused = undo_run(sqlite_directory, result.run_id, operator="ops")
    assert (
        not refused.undone and "only credential and user imports can be undone" in refused.refusal
    )
    # A second push of the same file plans the applied rows unchanged and writes nothing.
    writes = len(command.writes)
    again = push_to_verkada(file, sqlite_directory, settings(command), operator="ops",
                            options=options)  # fmt: skip
    assert len(command.writes) == writes
    assert set(again.rows.drop(index=7)["outcome"]) == {"unchanged"}


def test_2000_rows_through_429s_an_expired_token_and_failed_writes(
    sqlite_directory: Directory, tmp_path: Path
) -> None:
    # Limits scaled down: 20 requests per 50 ms window, a token that lives 1.5 s (the client
    # thinks 30 min, so it learns of the expiry from the 401), and the client's limiter set far
    # above the emulator's (as if another integration used the organisation's budget), so
    # that 429s come.
    emulator = CommandEmulator(
        api_key=KEY,
        limits=EmulatorLimits(requests_per_window=20, window_seconds=0.05, token_lifetime=1.5),
    )
    users = [f"00000000-0000-4000-8000-{n:012d}" for n in range(500)]
    for n, user_id in enumerate(users):
        emulator.add_user(user_id, external_id=f"X{n}")
        emulator.give_card(user_id, "HID", 1, n)
    emulator.faults = [
        Fault("POST", "/access/v1/credentials/card", 3, "500-after"),  # applied, then 503
        Fault("POST", "/access/v1/credentials/license_plate", 5, "500-before"),  # not applied
        Fault("PUT", "/access/v1/access_users/user/entry_code", 7, "cut"),  # applied, no answer
        Fault("PUT", "/access/v1/credentials/card/deactivate", 2, "timeout", delay=2.5),
        Fault("GET", "/access/v1/access_users/user", 11, "500-before"),  # a read retried
        Fault("GET", "/access/v1/access_users/user", 40, "429"),
        Fault("POST", "/access/v1/credentials/license_plate", 9, "429"),
    ]
    names = {user_id: ("User", str(n)) for n, user_id in enumerate(users)}
    with emulator.serving() as url:
        emulator.url = url  # type: ignore[attr-defined]
        export = export_from(emulator, tmp_path / "export.csv", names)
        assert load_export(export, sqlite_directory, operator="ops").exit_status == 0
        rows = []
        for n, user_id in enumerate(users):
            rows += [
                {"User ID": user_id, "Card Type": HID26, "Facility Code": "2", "Card Number": str(n)},
                {"User ID": user_id, "License Plate": f"P{n}"},
                {"User ID": user_id, "Entry Code": f"{10000 + n}"},
                {"User ID": user_id, "Card Type": HID26, "Facility Code": "1", "Card Number": str(n),
                 "Credential Status": "Inactive"},
            ]  # fmt: skip
        file = tmp_path / "2000.csv"
        file.write_bytes(csv_bytes(rows))
        before = emulator.credential_owners()
        limits = {"requests_per_window": 1000, "window_seconds": 0.05, "cooldown_seconds": 0.05,
                  "timeout_seconds": 1.0}  # fmt: skip
        result = push_to_verkada(file, sqlite_directory, settings(emulator, **limits),
                                 operator="ops")  # fmt: skip
        assert result.counts() == {"create": 1500, "update": 500, "reassign": 0,
                                   "unchanged": 0, "fail": 0}  # fmt: skip
        assert all(fault.fired.is_set() or fault.kind in ("500-before", "429")
                   for fault in emulator.faults)  # fmt: skip
        # The injected 429s at least (the windows' own, too, when the machine is fast enough).
        assert result.calls.rate_limited >= 2
        assert emulator.expired_tokens > 0 and result.calls.token_renewals > 0
        assert result.calls.retries >= 2  # the plate sent again, the read retried
        # Every change applied exactly once: one successful write per planned row.
        assert len(emulator.writes) == 2000
        assert emulator.credential_owners() == expected_state(
            before, result.review.resolved, result.rows
        )
        writes = len(emulator.writes)
        again = push_to_verkada(file, sqlite_directory, settings(emulator, **limits),
                                operator="ops")  # fmt: skip
        assert again.counts()["unchanged"] == 2000 and len(emulator.writes) == writes


def test_a_run_killed_in_the_middle_of_a_reassign_is_finished_by_the_next(
    command: CommandEmulator, sqlite_directory: Directory, tmp_path: Path
) -> None:
    small_organisation(command, tmp_path, sqlite_directory)
    file = tmp_path / "move.csv"
    file.write_bytes(csv_bytes([
        {"User ID": ALAN, "Card Type": HID26, "Facility Code": "1", "Card Number": "1"},
    ]))  # fmt: skip
    # The remove from Ada applies, then its answer is held while the push is killed.
    hold = Fault("DELETE", "/access/v1/credentials/card", 1, "hold")
    command.faults = [hold]
    env = os.environ | {"VERKADA_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    push = subprocess.Popen(
        [sys.executable, "-c", "from credkit.cli import main; main()", "import", str(file),
         "--to", "verkada", "--verkada-url", command.url, "--reassign",  # type: ignore[attr-defined]
         "--db", sqlite_directory.url],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert hold.fired.wait(60), push.communicate(timeout=5)
    finally:
        push.kill()
        push.wait()
    hold.release.set()
    key = "card:Standard 26-bit Wiegand:1:1"
    assert key not in command.credential_owners()  # half done: off Ada, not yet on Alan
    result = push_to_verkada(file, sqlite_directory, settings(command), operator="ops",
                             options=ReviewOptions(reassign=True))  # fmt: skip
    assert result.counts()["reassign"] == 1
    assert command.credential_owners()[key] == (ALAN, True)
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in command.writes] == [
        ("DELETE", "card"),
        ("POST", "card"),
    ]
    again = push_to_verkada(file, sqlite_directory, settings(command), operator="ops",
                            options=ReviewOptions(reassign=True))  # fmt: skip
    assert again.counts()["unchanged"] == 1 and len(command.writes) == 2


def test_dry_run_counts_the_calls_and_their_time_without_calling(
    command: CommandEmulator, sqlite_directory: Directory, tmp_path: Path
) -> None:
    small_organisation(command, tmp_path, sqlite_directory)
    file = tmp_path / "plan.csv"
    file.write_bytes(csv_bytes([
        {"User ID": ADA, "License Plate": f"DRY{n}"} for n in range(120)
    ] + [{"External ID": "E3", "License Plate": "KIM1"}]))  # fmt: skip
    requests = command.requests
    result = CliRunner().invoke(main, ["import", str(file), "--to", "verkada", "--dry-run",
                                       "--db", sqlite_directory.url])  # fmt: skip
    assert command.requests == requests  # nothing asked of Command
    # 120 creates x 2 calls, 1 lookup, 1 token: 242 calls at 24 per 5 s.
    assert "about 242 API calls, 0 min 51 s at the rate limit" in result.output
    assert result.exit_code == 1  # Kim is unknown until she is looked up


def test_the_key_is_never_echoed_and_a_refused_key_stops_before_anything(
    command: CommandEmulator, sqlite_directory: Directory, tmp_path: Path
) -> None:
    small_organisation(command, tmp_path, sqlite_directory)
    file = tmp_path / "one.csv"
    file.write_bytes(csv_bytes([{"User ID": ADA, "License Plate": "NEW1"}]))
    args = ["import", str(file), "--to", "verkada", "--verkada-url", command.url,  # type: ignore[attr-defined]
            "--db", sqlite_directory.url]  # fmt: skip
    runner = CliRunner()
    missing = runner.invoke(main, args, env={"VERKADA_API_KEY": ""})
    assert missing.exit_code == 3 and "set VERKADA_API_KEY" in missing.output
    wrong = "vkd_wrong_0000"
    refused = runner.invoke(main, args, env={"VERKADA_API_KEY": wrong})
    assert refused.exit_code == 3 and "refused the API key" in refused.output
    assert wrong not in refused.output and "Traceback" not in refused.output
    assert command.writes == []
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    pushed = runner.invoke(
        main, [*args, "--verkada-key-file", str(key_file)], env={"VERKADA_API_KEY": ""}
    )
    assert pushed.exit_code == 0, pushed.output
    assert "create 1" in pushed.output and KEY not in pushed.output
    assert command.credential_owners()["license_plate:NEW1"] == (ADA, True)


def test_card_types_are_mapped_both_ways(command: CommandEmulator) -> None:
    from credkit.connectors.verkada.state import card_from_api, card_type_from_api

    assert internal_type_name(HID26) == "HID"
    assert card_type_from_api("HID") == HID26
    assert card_type_from_api("HID37wFacilityCode") == "HID 37-bit"
    assert card_from_api({"type": "HID", "facility_code": "118", "card_number": None,
                          "card_number_hex": "2EC0C86"}) == f"card:{HID26}:118:1603"  # fmt: skip


def test_directory_pull_pages_through_every_user(command: CommandEmulator) -> None:
    from credkit.connectors.verkada.client import VerkadaClient

    for n in range(450):
        command.add_user(email=f"p{n}@example.com")
    with VerkadaClient(settings(command, requests_per_window=1000)) as client:
        seen = [user["email"] for user in client.iter_users()]
    assert sorted(seen) == sorted(f"p{n}@example.com" for n in range(450))
    assert client.stats.reads == 3  # 200 + 200 + 50


def test_the_limiter_keeps_every_window_at_or_under_its_limit() -> None:
    from credkit.connectors.verkada.limiter import WindowLimiter

    now = [0.0]
    sent: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = WindowLimiter(24, 5.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(300):
        limiter.acquire()
        sent.append(now[0])
        now[0] += 0.01  # the caller sends as fast as it can
    # No 5-second window, wherever it starts, holds more than 24 requests.
    assert max(sum(start <= t < start + 5.0 for t in sent) for start in sent) == 24
    assert 59.0 < sent[-1] < 65.0  # 300 requests take a minute and a bit: under 300 a minute


def test_directory_pull_fetches_every_user_and_resumes(
    command: CommandEmulator, sqlite_directory: Directory, tmp_path: Path
) -> None:
    from credkit.connectors.verkada.pull import pull_from_verkada
    from credkit.export import write_export

    command.limits.requests_per_window = 1000
    command.add_user(ADA, external_id="E1", email="ada@example.com", full_name="Ada Lovelace")
    command.add_user(ALAN, external_id="E2", full_name="Alan Turing")
    command.add_user(KIM, full_name="Kim Ng")  # no credential: not in an export either
    command.give_card(ADA, "HID", 118, 1603)
    command.users[ADA]["entry_code"] = "001234"
    command.give_card(ALAN, "HID37wFacilityCode", 1000, 123456, active=False)
    command.users[ALAN]["license_plates"].append(
        {"license_plate_number": "ABC123", "name": "", "active": True}
    )
    staging = tmp_path / "pull.csv"
    first = pull_from_verkada(sqlite_directory, settings(command), staging, operator="ops")
    assert first.exit_status == 0 and first.counts["create"] == 4
    # A pull that stopped after Ada leaves her rows only: the next fetches the others.
    lines = staging.read_text(encoding="utf-8").splitlines(keepends=True)
    staging.write_text("".join(line for line in lines if ALAN not in line), encoding="utf-8")
    reads = command.requests
    again = pull_from_verkada(sqlite_directory, settings(command), staging, operator="ops")
    assert command.requests - reads == 4  # a token, one page, Alan and Kim (who has no row)
    assert again.counts["unchanged"] == 4
    out = tmp_path / "export.csv"
    write_export(sqlite_directory, out)
    rows = {(r["User ID"], r["Card Type"], r["Card Number"], r["Card Number Hex"],
             r["License Plate"], r["Entry Code"], r["Credential Status"], r["First Name"])
            for r in csv.DictReader(out.open(encoding="utf-8"))}  # fmt: skip
    assert rows == {
        (ADA, HID26, "1603", "2EC0C86", "", "", "Active", "Ada"),
        (ADA, "", "", "", "", "001234", "Active", "Ada"),
        (ALAN, "HID 37-bit", "123456", "003E83C481", "", "", "Inactive", "Alan"),
        (ALAN, "", "", "", "ABC123", "", "Active", "Alan"),
    }


def test_the_directory_pull_command(command: CommandEmulator, tmp_path: Path) -> None:
    command.add_user(ADA, external_id="E1", full_name="Ada Lovelace")
    command.give_card(ADA, "HID", 1, 1)
    url = f"sqlite:///{tmp_path / 'pulled.db'}"
    args = ["directory", "pull", "--from", "verkada", "--verkada-url", command.url,  # type: ignore[attr-defined]
            "--staging", str(tmp_path / "pull.csv"), "--db", url]  # fmt: skip
    result = CliRunner().invoke(main, args, env={"VERKADA_API_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert "users added 1" in result.output and "create 1" in result.output
    assert KEY not in result.output


def test_the_demo_messy_file_corrected_and_pushed(command: CommandEmulator, tmp_path: Path) -> None:
    from credkit.corrected import write_corrected
    from credkit.demo import create_demo
    from credkit.review import review_file

    # Command's organisation is the demo's directory; the operator loads its export.
    demo_directory = Directory(f"sqlite:///{tmp_path / 'demo.db'}")
    demo = create_demo(demo_directory, tmp_path, user_count=40, seed=3)
    names = {}
    for user in demo_directory.users_frame().itertuples():
        command.add_user(user.user_id, external_id=user.external_id, email=user.email,
                         employee_id=user.employee_id)  # fmt: skip
        names[user.user_id] = (user.first_name, user.last_name)
    for held in demo_directory.credentials_frame().itertuples():
        owner = command.users[held.user_id]
        if held.kind == "card":
            facility = int(held.facility_code) if held.facility_code else None
            command.give_card(held.user_id, held.card_type, facility, int(held.card_number),
                              active=held.status == "active")  # fmt: skip
        elif held.kind == "license_plate":
            owner["license_plates"].append({"license_plate_number": held.license_plate,
                                            "name": "", "active": held.status == "active"})  # fmt: skip
        else:
            owner["entry_code"] = held.entry_code
    demo_directory.dispose()
    local = Directory(f"sqlite:///{tmp_path / 'local.db'}")
    export = export_from(command, tmp_path / "command-export.csv", names)
    assert load_export(export, local, operator="ops").exit_status == 0
    # Review the messy file, fix two rows as the wizard would, write the corrected file.
    messy = next(path for path in demo.files if path.name == "credentials-messy.csv")
    review = review_file(messy, local, ReviewOptions(mapping=(("Facility Cod", "Facility Code"),)))
    code = review.table.at[6, "Entry Code"]
    review.edit({(4, "Facility Code"): "30", (6, "Entry Code"): "0" + code})
    corrected = tmp_path / "corrected.csv"
    written = write_corrected(review, local, corrected)
    assert written.corrected_rows == 5
    before = command.credential_owners()
    result = push_to_verkada(corrected, local, settings(command, requests_per_window=1000),
                             operator="ops")  # fmt: skip
    assert result.counts() == {"create": 5, "update": 0, "reassign": 0, "unchanged": 0, "fail": 0}
    assert command.credential_owners() == expected_state(
        before, result.review.resolved, result.rows
    )
    assert len(command.writes) == 5
    again = push_to_verkada(corrected, local, settings(command, requests_per_window=1000),
                            operator="ops")  # fmt: skip
    assert again.counts()["unchanged"] == 5 and len(command.writes) == 5
    local.dispose()


def test_a_rejected_file_is_pushed_nowhere(command: CommandEmulator, tmp_path: Path) -> None:
    file = tmp_path / "semicolons.csv"
    file.write_text("First Name;Last Name;User ID;Card Type\nAda;L;x;HID\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'local.db'}"
    Directory(url).dispose()  # a loaded (here: empty) directory; without one the push exits 3
    args = ["import", str(file), "--to", "verkada", "--verkada-url", command.url, "--db", url]  # type: ignore[attr-defined]
    result = CliRunner().invoke(main, args, env={"VERKADA_API_KEY": KEY})
    assert result.exit_code == 2 and "File rejected: nothing pushed" in result.output
    assert command.requests == 0


@pytest.mark.parametrize("client_limit", [4, 50])
def test_the_windows_answer_429_and_the_client_limiter_stays_under_them(
    client_limit: int,
) -> None:
    from credkit.connectors.verkada.client import VerkadaClient

    emulator = CommandEmulator(
        api_key=KEY, limits=EmulatorLimits(requests_per_window=5, window_seconds=0.5)
    )
    user_id = emulator.add_user()
    with emulator.serving() as url:
        emulator.url = url  # type: ignore[attr-defined]
        limits = {"requests_per_window": client_limit, "window_seconds": 0.5,
                  "cooldown_seconds": 0.5}  # fmt: skip
        with VerkadaClient(settings(emulator, **limits)) as client:
            for _ in range(12):
                assert client.get_user(user_id=user_id)["user_id"] == user_id
    if client_limit == 4:  # one under the emulator's 5, as the default is one under 25
        assert emulator.rate_limited == 0 and client.stats.rate_limited == 0
    else:  # paced too fast (as if another integration shared the budget): 429s waited out
        assert emulator.rate_limited > 0 and client.stats.rate_limited == emulator.rate_limited
