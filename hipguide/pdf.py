"""Printable PDFs of the exports: the patient handout and the clinical note.

Each PDF is printed from the same Markdown as its download (`hipguide.exports`), so the two never say
different things: markdown-it-py turns the Markdown into HTML (escaping any markup in knowledge text)
and fpdf2 lays that HTML out on A4. Built in memory; nothing is written to disk.

fpdf2's built-in fonts (Helvetica) need no font file on the machine; they cover Windows-1252, so the
few characters outside it (arrows, ≤, ≥) are spelt out first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fpdf import FPDF
from markdown_it import MarkdownIt

from .exports import clinical_note, patient_handout

if TYPE_CHECKING:
    from .assessment import Assessment
    from .knowledge import KnowledgeBase

ENCODING = "windows-1252"
# Characters the built-in fonts cannot show, in words or ASCII a reader understands.
SPELT_OUT = str.maketrans({"→": "->", "←": "<-", "≤": "<=", "≥": ">=", "×": "x", "−": "-", "●": "*", "✓": "yes",
                           "°": " degrees", "\u00a0": " "})
FONT = "helvetica"
TEXT_COLOUR = (33, 37, 41)


def printable(text: str) -> str:
    """Text the built-in fonts can print: known symbols spelt out, anything else replaced by "?"."""
    return text.translate(SPELT_OUT).encode(ENCODING, "replace").decode(ENCODING)


class _Document(FPDF):
    def __init__(self, title: str, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self._footer_text = printable(footer_text)
        self.set_title(printable(title))
        self.set_creator("HipGuide")
        self.set_lang("en")
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()
        self.set_text_color(*TEXT_COLOUR)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self._footer_text} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(*TEXT_COLOUR)


def markdown_pdf(markdown: str, title: str, footer: str) -> bytes:
    """A4 PDF of one Markdown document (headings, paragraphs, lists, bold and italics)."""
    html = MarkdownIt("commonmark", {"html": False}).render(printable(markdown))
    pdf = _Document(title, footer)
    pdf.set_font(FONT, size=11)
    pdf.write_html(html, font_family=FONT, ul_bullet_char="\u2022")
    return bytes(pdf.output())


def handout_pdf(kb: KnowledgeBase, result: Assessment, *context: Any) -> bytes:
    """The patient handout, printable (`context`: what `patient_handout` takes after the result)."""
    return markdown_pdf(patient_handout(kb, result, *context), "Your self-care plan", "HipGuide self-care plan")


def clinical_note_pdf(kb: KnowledgeBase, result: Assessment, *context: Any) -> bytes:
    """The clinical note, printable (the Markdown stays the version for pasting into a record)."""
    return markdown_pdf(clinical_note(kb, result, *context), "HipGuide assessment note", "HipGuide assessment note")
