"""Loading the address register on a real database: good rows stored, bad ones named, re-import updates."""

import io

from sqlalchemy import select

from postvak.addresses import service
from postvak.addresses.models import Address
from tests.support.bsns import take_bsns

HEADER = "bsn,name,street,houseNumber,postalCode,city,municipalityCode\n"


def _import(runtime, text: str, chunk_size: int = 2000, chunks: list | None = None):
    def save(chunk):
        if chunks is not None:
            chunks.append(len(chunk))
        with runtime.database.unit_of_work() as session:
            service.store_addresses(session, addresses=chunk)

    return service.import_addresses(lines=io.StringIO(text, newline=""), save=save, chunk_size=chunk_size)


def _stored(runtime) -> dict[str, Address]:
    with runtime.database.unit_of_work(write=False) as session:
        return {a.bsn: a for a in session.scalars(select(Address))}


def test_good_rows_are_stored_and_bad_ones_rejected_alone(runtime, bsns):
    good = bsns[:5]
    text = HEADER + "".join(f"{b},Naam {n},Straat,{n + 1},1234 AB,Stad,GM0344\n" for n, b in enumerate(good))
    text += "999999999,Naam,Straat,1,1234 AB,Stad,\n"  # line 7: fails the elfproef
    text += f"{bsns[5]},Naam,Straat,1,12345,Stad,\n"  # line 8: bad postal code
    text += f"{bsns[6]},Naam,Straat,1,1234 AB,Stad\u202e,\n"  # line 9: bidirectional override
    report = _import(runtime, text)
    assert report.imported == 5 and report.rejected == 3
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected_lines] == [
        (7, "bsn"),
        (8, "postalCode"),
        (9, "city"),
    ]
    stored = _stored(runtime)
    assert set(stored) == set(good)  # nothing of a bad row
    assert stored[good[2]].house_number == "3" and stored[good[2]].municipality_code == "GM0344"


def test_importing_again_updates_and_adds(runtime, bsns):
    _import(runtime, HEADER + f"{bsns[0]},Oude Naam,Straat,1,1234 AB,Stad,\n")
    report = _import(
        runtime,
        HEADER
        + f"{bsns[0]},Nieuwe Naam,Laan,2,5678 CD,Dorp,GM0001\n"
        + f"{bsns[1]},Ander,Weg,3,1111 AA,Plaats,\n",
    )
    assert (report.imported, report.rejected) == (2, 0)
    stored = _stored(runtime)
    assert len(stored) == 2
    again = stored[bsns[0]]
    assert (again.name, again.street, again.postal_code, again.city, again.municipality_code) == (
        "Nieuwe Naam",
        "Laan",
        "5678 CD",
        "Dorp",
        "GM0001",
    )


def test_the_later_of_two_rows_for_one_bsn_wins_also_within_a_chunk(runtime, bsns):
    report = _import(
        runtime, HEADER + f"{bsns[0]},Eerst,S,1,1234 AB,X,\n" + f"{bsns[0]},Later,S,1,1234 AB,X,\n"
    )
    assert report.imported == 2
    assert _stored(runtime)[bsns[0]].name == "Later"


def test_rows_are_stored_in_chunks(runtime):
    many = take_bsns(25, start=5000)
    chunks: list[int] = []
    text = HEADER + "".join(f"{b},N,S,1,1234 AB,X,\n" for b in many)
    assert _import(runtime, text, chunk_size=10, chunks=chunks).imported == 25
    assert chunks == [10, 10, 5]
    assert len(_stored(runtime)) == 25


def test_envelope_addresses_for_known_bsns_only(runtime, bsns):
    _import(runtime, HEADER + f"{bsns[0]},J. de Vries,Oudegracht,12 bis,3511 AB,Utrecht,\n")
    with runtime.database.unit_of_work(write=False) as session:
        found = service.find_envelope_addresses(session, bsns=[bsns[0], bsns[1]])
    assert found == {bsns[0]: ["J. de Vries", "Oudegracht 12 bis", "3511 AB  UTRECHT"]}


def test_the_report_lists_a_bounded_number_of_rejected_lines(runtime, monkeypatch):
    monkeypatch.setattr(service, "MAX_LISTED", 3)
    report = _import(runtime, HEADER + "123,N,S,1,1234 AB,X,\n" * 10)
    assert report.rejected == 10 and [r.line for r in report.rejected_lines] == [2, 3, 4]
