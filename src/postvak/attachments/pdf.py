"""The safety check for uploaded PDFs: magic bytes here, the parse in a limited child process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

if __name__ != "__main__":  # the child runs this file as a script and needs none of Postvak
    from postvak.errors import AttachmentRejected, PayloadTooLarge
if TYPE_CHECKING:  # only the child imports pikepdf; the server never loads it
    import pikepdf

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Every detail a sender can see. The child answers with one of these keys, never with text,
# so neither qpdf's messages nor any byte of the file ever reaches an error detail.
REASONS = {
    "encrypted": "the PDF is encrypted or password-protected; send it without encryption",
    "malformed": "the PDF is damaged or malformed (for example truncated); export it again",
    "javascript": "the PDF contains JavaScript",
    "launch": "the PDF contains an action that starts a program",
    "action": "the PDF contains an action that submits a form or opens another file",
    "link": "the PDF contains a link that is not a web, e-mail or telephone address",
    "embedded": "the PDF contains embedded files",
    "xfa": "the PDF contains an XFA form",
    "media": "the PDF contains rich media (Flash, video, sound or 3D)",
    "limits": "the PDF exceeds the time or memory limits for checking it",
}

# Named so a sender who attached the wrong file sees at once what went wrong.
_OTHER_FORMATS = {
    b"\x89PNG": "it is a PNG image",
    b"\xff\xd8\xff": "it is a JPEG image",
    b"GIF8": "it is a GIF image",
    b"PK\x03\x04": "it is a ZIP archive (perhaps a Word or OpenDocument file)",
}

# A dictionary holding any of these keys is active content, wherever it sits.
_RISKY_KEYS = {
    "/JS": "javascript",
    "/JavaScript": "javascript",  # the /Names tree of document-level scripts
    "/EmbeddedFiles": "embedded",
    "/EF": "embedded",
    "/XFA": "xfa",
    "/RichMediaContent": "media",
}
# Values of /S (action type), /Type or /Subtype that mark active content. /URI and /GoTo
# actions stay allowed: links to the sender's website are normal in a message.
_RISKY_KINDS = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/SubmitForm": "action",
    "/ImportData": "action",
    "/GoToR": "action",
    "/GoToE": "action",
    "/EmbeddedFile": "embedded",
    "/FileAttachment": "embedded",
    "/RichMedia": "media",
    "/RichMediaExecute": "media",
    "/Rendition": "media",
}
# javascript:, file: (leaks Windows credentials) and data: links are not messages' business.
_LINK_SCHEMES = ("https:", "http:", "mailto:", "tel:")


def check_pdf(data: bytes, *, seconds: float = 10.0, memory_mib: int = 512) -> int:
    """Raise AttachmentRejected(detail) unless `data` is a safe PDF; return its page count.

    Raise PayloadTooLarge when len(data) > MAX_ATTACHMENT_BYTES (checked first, before any
    parsing). The parse runs in a child process limited to `seconds` of wall-clock time and
    `memory_mib` of address space, because qpdf is C++ reading hostile input and a
    decompression bomb must exhaust the child, not the server.
    """
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(
            f"the attachment is {len(data)} bytes; the limit is {MAX_ATTACHMENT_BYTES} (10 MiB)"
        )
    # The PDF spec lets readers find %PDF- anywhere in the first 1024 bytes; we require it at
    # offset 0, so a file cannot be a PDF and also something else (a polyglot).
    if not data.startswith(b"%PDF-"):
        raise AttachmentRejected(f"not a PDF: {_describe(data)}")
    try:
        # -I: no PYTHON* variables, user site or script directory; the child needs only pikepdf.
        done = subprocess.run(  # noqa: S603 - a fixed command line; the file goes in on stdin
            [sys.executable, "-I", __file__, str(memory_mib)],
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child already
        raise AttachmentRejected(REASONS["limits"]) from None
    return _read_verdict(done)


def _describe(data: bytes) -> str:
    for magic, description in _OTHER_FORMATS.items():
        if data.startswith(magic):
            return description
    return "the file does not start with %PDF-"


def _read_verdict(done: subprocess.CompletedProcess[bytes]) -> int:
    """A child that crashed (or was killed for memory) gave no verdict: it hit the limits."""
    try:
        verdict = json.loads(done.stdout) if done.returncode == 0 else {}
        pages, reason = verdict.get("pages"), str(verdict.get("reason"))
    except (ValueError, AttributeError):
        pages = reason = None
    if isinstance(pages, int):
        return pages
    raise AttachmentRejected(REASONS.get(reason, REASONS["limits"]))


def _inspect(data: bytes) -> dict[str, object]:
    """Judge the PDF in this (child) process: {"pages": n} or {"reason": key of REASONS}."""
    import io

    import pikepdf

    try:
        # No recovery: qpdf would quietly rebuild a truncated or damaged file, and a viewer
        # might rebuild it differently from what we checked.
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        return {"reason": "encrypted"}
    if pdf.is_encrypted:  # an empty user password opens, but we cannot inspect it for sure
        return {"reason": "encrypted"}
    if reason := _find_active_content(pdf):
        return {"reason": reason}
    # Like `qpdf --check`: decodes every stream (a bomb runs out of memory here) and parses
    # every page; any warning means the file is not what a viewer would see either.
    problems = pdf.check_pdf_syntax()
    if any("bad_alloc" in problem for problem in problems):
        return {"reason": "limits"}  # qpdf reports a failed allocation as a warning
    if problems:
        return {"reason": "malformed"}
    return {"pages": len(pdf.pages)}


def _find_active_content(pdf: pikepdf.Pdf) -> str | None:
    """Walk every object in the file, referenced or not, so nothing hides off the page tree."""
    import pikepdf

    containers = (pikepdf.Array, pikepdf.Dictionary)
    todo = [pdf.trailer, *pdf.objects]
    while todo:
        obj = todo.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            if reason := _judge(obj):
                return reason
            children = obj.values()
        elif isinstance(obj, pikepdf.Array):
            children = obj
        else:
            continue
        # Indirect children are in pdf.objects already; following them could loop.
        todo.extend(c for c in children if isinstance(c, containers) and not c.is_indirect)
    return None


def _judge(d: pikepdf.Dictionary) -> str | None:
    keys = d.keys()  # one call into qpdf: most dictionaries hold nothing we look for
    if risky := keys & _RISKY_KEYS.keys():
        return _RISKY_KEYS[risky.pop()]
    for key in keys & {"/S", "/Type", "/Subtype"}:
        if (kind := str(d[key])) in _RISKY_KINDS:
            return _RISKY_KINDS[kind]
    is_link = "/URI" in keys and str(d.get("/S")) == "/URI"
    if is_link and not str(d["/URI"]).strip().lower().startswith(_LINK_SCHEMES):
        return "link"
    return None


def _main() -> None:
    """The child: limit memory before anything else, judge stdin, print the verdict."""
    import resource

    limit = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import pikepdf  # noqa: F401 - outside the try: failing here is the limit's fault, not the file's

    try:
        verdict = _inspect(sys.stdin.buffer.read())
    except MemoryError:
        verdict = {"reason": "limits"}
    except Exception:  # hostile input can break the parser in any way; each one means no
        verdict = {"reason": "malformed"}
    sys.stdout.write(json.dumps(verdict))


if __name__ == "__main__":
    _main()
