"""Builds the test PDFs at run time with pikepdf, so no binary fixture is ever committed."""

from __future__ import annotations

import io
import random
import re
import struct
import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name, String


def _save(pdf: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **options)
    return out.getvalue()


def _letter() -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Contents = pdf.make_stream(b"BT /F1 12 Tf 72 770 Td (Geachte heer,) Tj ET")
    pdf.pages[0].Resources = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    return pdf


def _javascript(code: str = "app.alert('hi')") -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=String(code))


def one_page() -> bytes:
    return _save(_letter())


def with_link(uri: str) -> bytes:
    pdf = _letter()
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([72, 700, 300, 720]),
        Border=Array([0, 0, 0]),
        A=Dictionary(S=Name.URI, URI=String(uri)),
    )
    pdf.pages[0].Annots = pdf.make_indirect(Array([pdf.make_indirect(link)]))
    return _save(pdf)


def with_javascript_open_action() -> bytes:
    pdf = _letter()
    pdf.Root.OpenAction = pdf.make_indirect(_javascript())
    return _save(pdf)


def with_javascript_name_tree() -> bytes:
    pdf = _letter()
    tree = Dictionary(Names=Array([String("greeting"), pdf.make_indirect(_javascript())]))
    pdf.Root.Names = Dictionary(JavaScript=tree)
    return _save(pdf)


def with_launch_action() -> bytes:
    pdf = _letter()
    pdf.Root.OpenAction = Dictionary(S=Name.Launch, F=String("C:\\Windows\\System32\\calc.exe"))
    return _save(pdf)


def with_embedded_file() -> bytes:
    pdf = _letter()
    pdf.attachments["factuur.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really a program")
    return _save(pdf)


def with_unreferenced_javascript() -> bytes:
    """JavaScript in an object nothing points to, appended as an incremental update."""
    base = _save(_letter(), object_stream_mode=pikepdf.ObjectStreamMode.disable)
    size = int(re.search(rb"/Size (\d+)", base).group(1))
    root = re.search(rb"/Root (\d+ \d+ R)", base).group(1)
    previous = int(re.search(rb"startxref\s+(\d+)", base).group(1))
    obj = b"%d 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n" % size
    xref_at = len(base) + len(obj)
    update = (
        obj
        + b"xref\n%d 1\n%010d 00000 n \n" % (size, len(base))
        + b"trailer\n<< /Size %d /Root %s /Prev %d >>\n" % (size + 1, root, previous)
        + b"startxref\n%d\n%%%%EOF\n" % xref_at
    )
    return base + update


def encrypted(user_password: str) -> bytes:
    encryption = pikepdf.Encryption(owner="owner-secret", user=user_password)
    return _save(_letter(), encryption=encryption)


def truncated() -> bytes:
    data = one_page()
    return data[: len(data) // 2]


def garbage_with_pdf_header() -> bytes:
    return b"%PDF-1.7\n" + random.Random(7).randbytes(4096)


def png() -> bytes:
    """A real 1x1 PNG, built by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _deflated_zeros(mib: int) -> bytes:
    """A zlib stream of `mib` MiB of zeros, without ever holding them in memory.

    After a full flush, deflate no longer refers back to earlier data, so every further MiB
    of zeros compresses to the same bytes; the Adler-32 of n zeros is (n mod 65521, 1).
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = ((mib << 20) % 65521) << 16 | 1
    return b"\x78\xda" + block * mib + compressor.flush() + struct.pack(">I", adler)


def decompression_bomb(mib: int = 2048) -> bytes:
    """A ~2 MB PDF whose page content inflates to `mib` MiB."""
    pdf = _letter()
    content = pikepdf.Stream(pdf, _deflated_zeros(mib))
    content.Filter = Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(content)
    return _save(pdf)
