"""Paper fallback benchmark: milliseconds to render one letter, letters per second through a whole print batch
(claim, render, hand over, record), and the address register's import rate and memory.

Run from the repository root:
`.venv/bin/python -m bench.printing [--letters N] [--renders N] [--addresses N] [--postgresql]`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from bench.ingest import Databases
from tests.support.bsns import take_bsns
from tests.support.letters import letter, register
from tests.support.printing import attachment_pdf, inline_pdf, print_worker, register_addresses

from postvak.addresses import service as addresses
from postvak.config import Settings
from postvak.flows.delivery import deliver_messages
from postvak.migrate import upgrade
from postvak.printing import service
from postvak.printing.render import MessageForPrint, render_message
from postvak.runtime import build_runtime
from postvak.senders.models import Sender

BODY = (
    "Geachte heer/mevrouw,\n\n"
    "Hierbij ontvangt u de **aanslag** gemeentelijke belastingen 2027 voor het adres hierboven. "
    + "De aanslag is berekend op basis van de WOZ-waarde van uw woning en het aantal personen. "
    * 6
    + "\n\n## Bezwaar\n\nBent u het niet eens met deze aanslag? Dan kunt u binnen zes weken "
    "[bezwaar maken](https://www.example.nl/bezwaar).\n\n"
    "- Betaal in één keer, of\n- in tien termijnen via automatische incasso.\n\n"
    "Met vriendelijke groet,\n\nDe heffingsambtenaar\n"
)  # about 1 KiB, as bench/ingest.py's letters


def typical_message(attachments: int) -> tuple[MessageForPrint, list[bytes]]:
    printed = MessageForPrint(
        message_id=uuid.uuid4(),
        sender_name="Gemeente Utrecht",
        sender_reference="IB-2026-000123",
        subject="Aanslag gemeentelijke belastingen 2027",
        body=BODY,
        sent_on=date(2027, 1, 5),
        due_date=date(2027, 3, 31),
        action_kind="pay",
        action_label="Betalen",
        action_url="https://betalen.example.nl/IB-2026-000123",
        address_lines=["Mevrouw J. de Vries", "Oudegracht 12 bis", "3511 AB  UTRECHT"],
        return_address="Postvak, Postbus 12345, 2500 AA  Den Haag",
        web_address="https://postvak.example.nl",
    )
    return printed, [attachment_pdf(f"Bijlage {n}", 1) for n in range(attachments)]


def bench_render(count: int) -> None:
    at = datetime(2027, 1, 5, tzinfo=UTC)
    for attachments in (0, 2):
        printed, files = typical_message(attachments)
        render_message(printed, files, created_at=at)  # warm up
        times = []
        for _ in range(count):
            start = time.perf_counter()
            rendered = render_message(printed, files, created_at=at)
            times.append(time.perf_counter() - start)
        median, p99 = statistics.median(times) * 1000, sorted(times)[int(count * 0.99) - 1] * 1000
        print(
            f"render, {attachments} one-page attachments: {rendered.pages} pages, "
            f"{len(rendered.pdf) / 1024:.1f} KiB, median {median:.2f} ms, p99 {p99:.2f} ms "
            f"({count / sum(times):.0f} letters/s on one core)"
        )


def bench_batches(url: str, workdir: Path, count: int) -> None:
    settings = Settings(data_dir=workdir / "data", database_url=url)
    runtime = build_runtime(settings)
    upgrade(runtime.database)
    handle = register(runtime)
    with runtime.database.unit_of_work(write=False) as session:
        sender = session.get(Sender, handle.id)
    bsns = take_bsns(count)
    register_addresses(runtime, bsns)
    brochure = [inline_pdf(attachment_pdf("Folder", 1))]  # one PDF for all: stored once, as senders do
    ids = []
    for start in range(0, count, 1000):
        items = [
            letter(
                bsn,
                f"PB-{start + n}",
                body=BODY,
                dueDate="2027-03-31",
                paperFallback="if-unreachable",
                attachments=brochure,
            )
            for n, bsn in enumerate(bsns[start : start + 1000])
        ]
        ids += [o.message_id for o in deliver_messages(runtime, sender=sender, items=items)]
    start = time.perf_counter()
    with runtime.database.unit_of_work() as session:
        outcome = service.print_messages(session, message_ids=ids)
    claimed = time.perf_counter() - start
    start = time.perf_counter()
    print_worker(runtime).drain()
    printed = time.perf_counter() - start
    folders = [p for p in settings.resolved_print_dir.iterdir() if not p.name.startswith(".")]
    kind = "PostgreSQL" if "postgresql" in url else "SQLite"
    print(
        f"print batches ({kind}), {count} letters with a one-page attachment in {len(outcome.batches)} "
        f"batches: claimed in {claimed:.2f} s; rendered, handed over and recorded at "
        f"{count / printed:.0f} letters/s ({printed:.1f} s; {len(folders)} folders)"
    )
    runtime.database.dispose()


def bench_addresses(url: str, workdir: Path, count: int) -> None:
    settings = Settings(data_dir=workdir / "addresses", database_url=url)
    runtime = build_runtime(settings)
    upgrade(runtime.database)
    path = workdir / "register.csv"
    # Only BSNs of the 9999… test range (about 9,000 pass the elfproef): they repeat, so most rows
    # update a stored address, which costs the upsert as much as a new one does.
    bsns = take_bsns(9000)
    with path.open("w") as handle:
        handle.write("bsn,name,street,houseNumber,postalCode,city,municipalityCode\n")
        for n in range(count):
            handle.write(f"{bsns[n % 9000]},Bewoner {n},Dorpsstraat,{n % 500 + 1},1234 AB,Ergens,GM0344\n")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def save(chunk) -> None:
        with runtime.database.unit_of_work() as session:
            addresses.store_addresses(session, addresses=chunk)

    start = time.perf_counter()
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as lines:
        report = addresses.import_addresses(lines=lines, save=save)
    elapsed = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"address import: {report.imported} rows ({path.stat().st_size / 2**20:.0f} MiB file) at "
        f"{report.imported / elapsed:.0f} rows/s; the process's peak memory {rss_before / 1024:.0f} MiB "
        f"before, {rss_after / 1024:.0f} MiB after"
    )
    runtime.database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        databases = Databases(args.postgresql, Path(tmp))
        try:
            # First, while the process is small: its peak memory then shows what the import holds.
            bench_addresses(databases.fresh("addresses"), Path(tmp), args.addresses)
            bench_render(args.renders)
            bench_batches(databases.fresh("printing"), Path(tmp), args.letters)
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
