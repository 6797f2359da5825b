"""Flowing text in the PDF standard fonts: each word measured once, lines broken greedily, placed as they are.

fpdf2's own flowing text (write, multi_cell) re-measures a line for every character added to
it, which cost about three quarters of a message's rendering time; this does one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fpdf import FPDF

from postvak.printing.text import ENCODING, printable

FONT, MONO = "Helvetica", "Courier"
BODY_SIZE = 10.5  # points
_PT = 25.4 / 72  # mm per point
_PIECES = re.compile(r" +|[^ ]+")


@dataclass(frozen=True)
class Style:
    family: str = FONT
    emphasis: str = ""  # "", "B", "I" or "BI"
    size: float = BODY_SIZE

    def bold(self) -> Style:
        return Style(self.family, "B" + self.emphasis.replace("B", ""), self.size)


PLAIN = Style()


class Flow:
    """Runs of styled text, laid out as one paragraph between the page's left and right margins."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.runs: list[tuple[Style, str]] = []
        self.keep_spaces = False  # code: spaces as typed; elsewhere a run of spaces is one space

    def add(self, style: Style, text: str) -> None:
        if text:
            self.runs.append((style, text))

    def __bool__(self) -> bool:
        return bool(self.runs)

    def flush(self, *, line_height: float | None = None, marker: tuple[Style, str] | None = None) -> None:
        """Place the runs from the current y down (new pages as needed); the cursor ends below them.

        `marker` (a list bullet or number) goes in front of the first line, left of the margin.
        """
        runs, self.runs = self.runs, []
        if not runs and marker is None:
            return
        height = line_height or max(style.size for style, _ in runs or [marker]) * _PT * 1.35
        lines = self._break(runs)
        pdf = self.pdf
        y = pdf.get_y()
        for number, line in enumerate(lines or [[]]):
            if y + height > pdf.page_break_trigger and pdf.get_y() > pdf.t_margin + 0.01:
                pdf.add_page()
                y = pdf.get_y()
            size = max((style.size for style, _, _ in line), default=BODY_SIZE)
            baseline = y + 0.5 * height + 0.3 * size * _PT
            if number == 0 and marker is not None:
                _place(pdf, marker[0], pdf.l_margin - 5.5, baseline, printable(marker[1]))
            x = pdf.l_margin
            for style, text, width in line:
                _place(pdf, style, x, baseline, text)
                x += width
            y += height
            pdf.set_y(y)  # so that a page break above sees where we are

    def _break(self, runs: list[tuple[Style, str]]) -> list[list[tuple[Style, str, float]]]:
        """Greedy line breaking; a word wider than the line is cut where it must be."""
        pdf = self.pdf
        available = pdf.w - pdf.r_margin - pdf.l_margin
        lines: list[list[tuple[Style, str, float]]] = []
        line: list[tuple[Style, str, float]] = []
        used = 0.0
        space: tuple[Style, str, float] | None = None
        for style, raw in runs:
            measure = _measurer(pdf, style)
            text = printable(raw)
            for piece in _PIECES.findall(text):
                if piece[0] == " ":
                    if self.keep_spaces and not line:  # indentation of code
                        line.append((style, piece, measure(piece)))
                        used += line[-1][2]
                    elif line:
                        kept = piece if self.keep_spaces else " "
                        space = (style, kept, measure(kept))
                    continue
                width = measure(piece)
                gap = space[2] if space and line else 0.0
                if line and used + gap + width > available:
                    lines.append(line)
                    line, used, gap = [], 0.0, 0.0
                elif space and line:
                    line.append(space)
                    used += gap
                space = None
                while width > available and len(piece) > 1:  # a long URL, say: cut it to the line
                    cut = _fitting(piece, measure, available - used)
                    line.append((style, piece[:cut], measure(piece[:cut])))
                    lines.append(line)
                    line, used = [], 0.0
                    piece = piece[cut:]
                    width = measure(piece)
                line.append((style, piece, width))
                used += width
        if line:
            lines.append(line)
        return [_merged(line) for line in lines]


def paragraph(
    pdf: FPDF, text: str, style: Style = PLAIN, *, line_height: float | None = None, keep_spaces: bool = False
) -> None:
    flow = Flow(pdf)
    flow.keep_spaces = keep_spaces
    flow.add(style, text)
    flow.flush(line_height=line_height)


def _measurer(pdf: FPDF, style: Style):
    pdf.set_font(style.family, style.emphasis if style.family != MONO else "", style.size)
    widths = pdf.current_font.cw
    scale = style.size * 0.001 * _PT

    def measure(text: str) -> float:
        return sum(widths[c] for c in text.encode(ENCODING).decode("latin-1")) * scale

    return measure


def _fitting(piece: str, measure, room: float) -> int:
    """How many characters of `piece` fit in `room` (at least one, so that the loop always advances)."""
    cut = 1
    while cut < len(piece) and measure(piece[: cut + 1]) <= room:
        cut += 1
    return cut


def _merged(line: list[tuple[Style, str, float]]) -> list[tuple[Style, str, float]]:
    """Neighbours in one style become one string: fewer text objects in the PDF."""
    merged: list[tuple[Style, str, float]] = []
    for style, text, width in line:
        if merged and merged[-1][0] == style:
            merged[-1] = (style, merged[-1][1] + text, merged[-1][2] + width)
        else:
            merged.append((style, text, width))
    return merged


def _place(pdf: FPDF, style: Style, x: float, baseline: float, text: str) -> None:
    pdf.set_font(style.family, style.emphasis if style.family != MONO else "", style.size)
    pdf.text(x, baseline, text)
