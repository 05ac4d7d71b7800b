"""The dependency audit's verdict: a known vulnerability fails, a dependency that could not be checked is
never reported as clean, and no network is a stated skip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("audit_dependencies", ROOT / "scripts" / "audit_dependencies.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails():
    code, message = audit.verdict({"dependencies": [
        {"name": "urllib3", "version": "1.26.4", "vulns": [{"id": "PYSEC-2021-108", "fix_versions": ["1.26.5"]}]},
        {"name": "pyyaml", "version": "6.0.3", "vulns": []},
    ]})
    assert code == 1
    assert "urllib3 1.26.4: PYSEC-2021-108 (fixed in 1.26.5)" in message


def test_nothing_checked_is_a_skip_not_a_clean_bill():
    code, message = audit.verdict({"dependencies": [
        {"name": "streamlit", "skip_reason": "Dependency not found on PyPI and could not be audited: streamlit (1.67.0)"},
    ]})
    assert code == 0
    assert message.startswith("dependency audit: SKIPPED") and "no known vulnerabilities" not in message


def test_partly_checked_names_what_was_not_checked():
    code, message = audit.verdict({"dependencies": [
        {"name": "pyyaml", "version": "6.0.3", "vulns": []},
        {"name": "streamlit", "skip_reason": "could not be audited"},
    ]})
    assert code == 0
    assert "1 checked" in message and "could not be checked: streamlit" in message


def test_all_checked_and_clean():
    code, message = audit.verdict({"dependencies": [{"name": "pyyaml", "version": "6.0.3", "vulns": []}]})
    assert (code, message) == (0, "dependency audit: no known vulnerabilities in 1 dependency")
