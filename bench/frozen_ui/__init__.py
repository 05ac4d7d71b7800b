"""Verbatim copies of ui/ as of the frozen assessment page (see bench/frozen_assessment.py); only imports changed."""
