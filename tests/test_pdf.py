"""The printable handout and note: real PDFs whose text says what the Markdown says."""

from __future__ import annotations

import io

from pypdf import PdfReader

from hipguide.assessment import assess
from hipguide.pdf import clinical_note_pdf, handout_pdf, printable


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def words(text: str) -> str:
    return " ".join(text.split())


URGENT = {"findings": ["loc_deep_central_buttock", "aggr_sitting", "rf_cancer_history", "rf_constant_night_pain"], "age": 62}
ROUTINE = {"findings": ["loc_deep_central_buttock", "aggr_sitting", "aggr_driving", "test_fair_positive"],
           "absent": ["loc_low_back", "test_slr_positive"]}


def test_the_handout_gives_the_plan_what_to_avoid_when_to_seek_care_and_the_basis(kb):
    result = assess(kb, ROUTINE)
    text = pdf_text(handout_pdf(kb, result))
    assert text.startswith("Your self-care plan")
    for heading in ("Your plan", "What to avoid", "When to seek care", "What this plan is based on"):
        assert heading in text
    for item in result.plan:
        if item.stance in ("recommend", "conditional", "advise_against"):
            assert words(printable(item.advice))[:60] in text, item.topic
    ice = next(item for item in result.plan if item.topic == "ice")
    assert ice.stance == "advise_against"
    assert text.index(words(printable(ice.advice))[:60]) > text.index("What to avoid")
    assert "guidance version" in text and "HipGuide self-care plan - page 1 of" in text


def test_when_to_seek_care_uses_the_triage_wording(kb):
    result = assess(kb, URGENT)
    assert result.triage.level == "urgent"
    text = pdf_text(handout_pdf(kb, result))
    seek = text[text.index("When to seek care"):]
    assert "Triage: URGENT" in seek
    for reason in result.triage.reasons:
        assert words(printable(reason.action))[:80] in seek  # the rule's own action, word for word
    assert "see a doctor soon" in text


def test_an_emergency_handout_withholds_self_care(kb):
    result = assess(kb, {"findings": ["rf_saddle_anaesthesia"]})
    text = pdf_text(handout_pdf(kb, result))
    assert "seek medical care today" in text and "Triage: EMERGENCY" in text
    assert result.plan == []


def test_the_clinical_note_pdf_carries_the_findings_triage_and_differential(kb):
    result = assess(kb, URGENT)
    text = pdf_text(clinical_note_pdf(kb, result))
    assert text.startswith("HipGuide assessment note")
    assert kb.findings["rf_cancer_history"].label in text
    assert "Triage: URGENT" in text
    assert printable(kb.conditions[result.differential[0].condition].label) in text


def test_symbols_outside_the_pdf_font_are_spelt_out_and_markup_is_not_interpreted():
    assert printable("if positive → 30%, ≤1%") == "if positive -> 30%, <=1%"
    assert printable("naïve café — “quoted”") == "naïve café — “quoted”"  # Windows-1252 has these
    assert printable("日本") == "??"
