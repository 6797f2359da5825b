"""Paper fallback in tests: letters that cannot be delivered, an address register, PDFs made and read back."""

from __future__ import annotations

import base64
import io
import uuid
from pathlib import Path

import pikepdf
from fastapi.testclient import TestClient
from pikepdf import Dictionary, Name

from postvak.addresses import service as addresses
from postvak.addresses.rules import AddressIn
from postvak.jobs.worker import Worker
from postvak.printing.jobs import PrintLane
from postvak.runtime import Runtime, job_handlers
from tests.support.letters import SenderHandle, letter


def address_for(bsn: str, n: int = 0) -> AddressIn:
    """A made-up Dutch address, different per `n`."""
    return AddressIn(
        bsn=bsn,
        name=f"Mevrouw J. de Vries-Ĳzerman {n}",
        street="Oudegracht",
        house_number=f"{n + 1} bis",
        postal_code="3511 AB",
        city="Utrecht",
        municipality_code="GM0344",
    )


def register_addresses(runtime: Runtime, bsns: list[str]) -> None:
    with runtime.database.unit_of_work() as session:
        addresses.store_addresses(session, addresses=[address_for(bsn, n) for n, bsn in enumerate(bsns)])


def send_unreachable(
    client: TestClient, sender: SenderHandle, bsn: str, reference: str, **fields
) -> uuid.UUID:
    """A letter to a citizen without an activated account: its status is `unreachable`."""
    body = letter(bsn, reference, **{"paperFallback": "if-unreachable", **fields})
    answer = client.post("/api/v1/messages", json=body, headers=sender.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "unreachable"
    return uuid.UUID(answer.json()["id"])


def inline_pdf(data: bytes, name: str = "bijlage.pdf") -> dict:
    return {"fileName": name, "mediaType": "application/pdf", "content": base64.b64encode(data).decode()}


def attachment_pdf(label: str, pages: int) -> bytes:
    """A PDF of `pages` pages, each saying "<label> pagina <n>"."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    for number in range(1, pages + 1):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 770 Td ({label} pagina {number}) Tj ET".encode())
        page.Resources = Dictionary(Font=Dictionary(F1=font))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, a line per baseline, as the PDF's text operators show it."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [_page_text(page) for page in pdf.pages]


def _page_text(page: pikepdf.Page) -> str:
    fonts = page.Resources.get("/Font", Dictionary())
    lines: dict[float, str] = {}
    order: list[float] = []
    y, encoding = 0.0, "latin-1"
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "Tf":
            font = fonts.get(str(operands[0]), Dictionary())
            encoding = "cp1252" if font.get("/Encoding") == Name.WinAnsiEncoding else "latin-1"
        elif op in ("Td", "TD"):
            y = round(float(operands[1]), 1)
        elif op in ("Tj", "'", '"', "TJ"):
            strings = operands[0] if op == "TJ" else [operands[-1]]
            text = "".join(bytes(s).decode(encoding) for s in strings if isinstance(s, pikepdf.String))
            if y not in lines:
                lines[y] = ""
                order.append(y)
            lines[y] += text
    return "\n".join(lines[y] for y in order)


def print_worker(runtime: Runtime) -> Worker:
    """A worker with only the lanes printing needs: single jobs and print batches."""
    lane = PrintLane(runtime.database, runtime.settings, runtime.keyring, runtime.blobs)
    return Worker(runtime.database, job_handlers(), lanes=[lane])


def batch_folders(print_dir: Path) -> list[Path]:
    """The batches handed over (complete folders; not the provider's own dot-folders)."""
    if not print_dir.exists():
        return []
    return sorted(p for p in print_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
