"""Tests for envelope encryption at rest and the key ring file."""

import json
import multiprocessing
import stat
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.kit.crypto import IntegrityError, KeyRing, Sealed

AAD = b"att_0123456789abcdef"


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.load_or_create(tmp_path / "keys" / "kek.json")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_round_trip(ring: KeyRing) -> None:
    sealed = ring.seal(b"Geachte heer, uw aanslag.", AAD)

    assert sealed.kek_id == ring.active_id
    assert b"aanslag" not in sealed.ciphertext
    assert ring.open(sealed, AAD) == b"Geachte heer, uw aanslag."


def test_each_seal_uses_a_fresh_data_key_and_nonce(ring: KeyRing) -> None:
    a, b = ring.seal(b"same", AAD), ring.seal(b"same", AAD)

    assert a.ciphertext != b.ciphertext
    assert a.wrapped_key != b.wrapped_key


@pytest.fixture(scope="module")
def module_ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    # hypothesis reruns the body many times; one key file serves every example.
    return KeyRing.load_or_create(tmp_path_factory.mktemp("ring") / "kek.json")


@given(plaintext=st.binary(max_size=4096), aad=st.binary(max_size=64))
def test_round_trip_over_arbitrary_bytes(module_ring: KeyRing, plaintext: bytes, aad: bytes) -> None:
    assert module_ring.open(module_ring.seal(plaintext, aad), aad) == plaintext


def test_any_flipped_ciphertext_byte_is_rejected(ring: KeyRing) -> None:
    sealed = ring.seal(b"x" * 100, AAD)

    for i in range(len(sealed.ciphertext)):
        with pytest.raises(IntegrityError):
            ring.open(replace(sealed, ciphertext=_flip(sealed.ciphertext, i)), AAD)


def test_any_flipped_wrapped_key_byte_is_rejected(ring: KeyRing) -> None:
    sealed = ring.seal(b"x" * 100, AAD)

    for i in range(len(sealed.wrapped_key)):
        with pytest.raises(IntegrityError):
            ring.open(replace(sealed, wrapped_key=_flip(sealed.wrapped_key, i)), AAD)


@pytest.mark.parametrize("field", ["ciphertext", "wrapped_key"])
def test_truncated_or_empty_parts_are_rejected(ring: KeyRing, field: str) -> None:
    sealed = ring.seal(b"hello", AAD)

    for cut in (0, 5, 12, len(getattr(sealed, field)) - 1):
        with pytest.raises(IntegrityError):
            ring.open(replace(sealed, **{field: getattr(sealed, field)[:cut]}), AAD)


def test_wrong_aad_is_rejected(ring: KeyRing) -> None:
    sealed = ring.seal(b"hello", AAD)

    with pytest.raises(IntegrityError):
        ring.open(sealed, b"att_another_object")


def test_wrapped_key_moved_to_another_object_is_rejected(ring: KeyRing) -> None:
    mine, theirs = ring.seal(b"mine", b"obj-1"), ring.seal(b"theirs", b"obj-2")

    with pytest.raises(IntegrityError):
        ring.open(Sealed(mine.kek_id, theirs.wrapped_key, mine.ciphertext), b"obj-1")


def test_unknown_kek_id_is_rejected(ring: KeyRing) -> None:
    sealed = ring.seal(b"hello", AAD)

    with pytest.raises(IntegrityError):
        ring.open(replace(sealed, kek_id="k-nonexistent"), AAD)


def test_key_file_is_created_private_and_reloaded_with_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "kek.json"

    first = KeyRing.load_or_create(path)
    sealed = first.seal(b"hello", AAD)
    second = KeyRing.load_or_create(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert second.active_id == first.active_id
    assert second.open(sealed, AAD) == b"hello"
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]  # no temp files left


def test_rotate_keeps_old_data_readable(ring: KeyRing, tmp_path: Path) -> None:
    old_id = ring.active_id
    before = ring.seal(b"before", AAD)

    new_id = ring.rotate()
    after = ring.seal(b"after", AAD)

    assert new_id != old_id
    assert ring.active_id == new_id
    assert ring.key_ids() == [old_id, new_id]
    assert after.kek_id == new_id
    assert ring.open(before, AAD) == b"before"
    assert ring.open(after, AAD) == b"after"
    reloaded = KeyRing.load_or_create(tmp_path / "keys" / "kek.json")
    assert reloaded.active_id == new_id
    assert reloaded.open(before, AAD) == b"before"
    assert stat.S_IMODE((tmp_path / "keys" / "kek.json").stat().st_mode) == 0o600


def test_rewrap_moves_to_the_active_kek_and_leaves_content_untouched(ring: KeyRing) -> None:
    sealed = ring.seal(b"brochure", AAD)
    new_id = ring.rotate()

    kek_id, wrapped = ring.rewrap(sealed.kek_id, sealed.wrapped_key, AAD)
    moved = Sealed(kek_id, wrapped, sealed.ciphertext)

    assert kek_id == new_id
    assert wrapped != sealed.wrapped_key
    assert ring.open(moved, AAD) == b"brochure"


def test_rewrap_of_a_tampered_wrapped_key_is_rejected(ring: KeyRing) -> None:
    sealed = ring.seal(b"brochure", AAD)
    ring.rotate()

    with pytest.raises(IntegrityError):
        ring.rewrap(sealed.kek_id, _flip(sealed.wrapped_key, 20), AAD)
    with pytest.raises(IntegrityError):
        ring.rewrap(sealed.kek_id, sealed.wrapped_key, b"other-object")


def test_rotation_in_another_process_is_picked_up_and_never_lost(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    server = KeyRing.load_or_create(path)
    cli = KeyRing.load_or_create(path)

    cli_id = cli.rotate()
    from_cli = cli.seal(b"written after the cli rotated", AAD)
    server_id = server.rotate()  # must re-read the file, not drop cli_id

    assert server.open(from_cli, AAD) == b"written after the cli rotated"
    assert set(json.loads(path.read_text())["keys"]) == {cli.key_ids()[0], cli_id, server_id}


def test_stale_ring_opens_data_sealed_under_a_newer_kek(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    stale = KeyRing.load_or_create(path)
    rotating = KeyRing.load_or_create(path)
    rotating.rotate()

    assert stale.open(rotating.seal(b"fresh", AAD), AAD) == b"fresh"


def test_concurrent_seal_open_during_rotation(ring: KeyRing) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(300):
                data = str(i).encode()
                assert ring.open(ring.seal(data, AAD), AAD) == data
        except BaseException as exc:  # collected for the main thread to report
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        ring.rotate()
    for t in threads:
        t.join()

    assert errors == []
    assert len(ring.key_ids()) == 6


def _create_when_told(path: str, ready, start, results) -> None:
    ready.put(True)
    start.wait(30)
    ring = KeyRing.load_or_create(Path(path))
    results.put((ring.active_id, ring.seal(b"sealed by a racer", AAD)))


def test_processes_starting_together_on_a_fresh_installation_make_one_key_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Queue(), context.Event(), context.Queue()
    path = tmp_path / "keys.json"
    racers = [
        context.Process(target=_create_when_told, args=(str(path), ready, start, results)) for _ in range(6)
    ]
    for racer in racers:
        racer.start()
    for _ in racers:
        ready.get(timeout=60)
    start.set()
    outcomes = [results.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(30)

    assert {active for active, _ in outcomes} == {json.loads(path.read_text())["active"]}
    reloaded = KeyRing.load_or_create(path)
    assert all(reloaded.open(sealed, AAD) == b"sealed by a racer" for _, sealed in outcomes)
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]  # no temporary files left behind
