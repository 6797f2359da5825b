"""`postvak addresses import` as an operator runs it: a real process, a CSV file, JSON on stdout."""

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from postvak.addresses.models import Address


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "postvak.cli", *args], env=env, capture_output=True, text=True, timeout=60
        )

    return run


def _count(runtime) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Address))


def test_import_prints_one_json_object_and_exits_1_for_rejected_lines(postvak, runtime, bsns, tmp_path):
    register = tmp_path / "adressen.csv"
    lines = ["bsn;name;street;houseNumber;postalCode;city"]
    lines += [f"{bsn};Bewoner {n};Dorpsstraat;{n + 1};1234ab;Ergens" for n, bsn in enumerate(bsns[:4])]
    lines += ["999999999;Iemand;Straat;1;1234 AB;Plaats", f"{bsns[4]};Iemand;Straat;1;12 AB;Plaats"]
    register.write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"
    )  # with a BOM, as Excel saves
    done = postvak("addresses", "import", str(register), "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == {
        "imported": 4,
        "rejected": 2,
        "rejectedLines": [
            {"line": 6, "reason": "bsn: the BSN fails the check digit (elfproef)"},
            {"line": 7, "reason": "postalCode: not a Dutch postal code (four digits, two letters: 1234 AB)"},
        ],
    }
    assert _count(runtime) == 4
    for bsn in bsns[:5]:  # neither a stored nor a rejected BSN is ever printed
        assert bsn not in done.stdout + done.stderr
    assert "Bewoner" not in done.stderr


def test_a_clean_file_exits_0_and_prints_the_count(postvak, runtime, bsns, tmp_path):
    register = tmp_path / "adressen.csv"
    register.write_text(
        "bsn,name,street,houseNumber,postalCode,city,municipalityCode\n"
        + "".join(f"{bsn},Bewoner,Straat,1,1234 AB,Plaats,GM0344\n" for bsn in bsns[:3])
    )
    done = postvak("addresses", "import", str(register))
    assert done.returncode == 0, done.stderr
    assert "imported 3 addresses; rejected 0 lines" in done.stdout


def test_a_wrong_header_stores_nothing(postvak, runtime, bsns, tmp_path):
    register = tmp_path / "adressen.csv"
    register.write_text(f"burgerservicenummer,naam\n{bsns[0]},X\n")
    done = postvak("addresses", "import", str(register), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "validation-failed"
    assert _count(runtime) == 0


def test_invalid_utf8_costs_its_line_only(postvak, runtime, bsns, tmp_path):
    register = tmp_path / "adressen.csv"
    register.write_bytes(
        b"bsn,name,street,houseNumber,postalCode,city\n"
        + f"{bsns[0]},Caf".encode()
        + b"\xe9,Straat,1,1234 AB,Plaats\n"  # Latin-1, not UTF-8
        + f"{bsns[1]},Café,Straat,1,1234 AB,Plaats\n".encode()
    )
    done = postvak("addresses", "import", str(register), "--json")
    assert json.loads(done.stdout)["rejectedLines"] == [{"line": 2, "reason": "name: not valid UTF-8"}]
    assert _count(runtime) == 1
