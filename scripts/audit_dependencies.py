"""Dependency audit for `make test`: pip-audit over requirements.txt.

A known vulnerability fails the run. When the vulnerability service cannot be reached (a machine with
no network), the audit says so plainly and does not fail the build: that is a missing check, reported,
not a vulnerability found. A dependency pip-audit skipped ("could not be audited") is counted as not
checked, never as clean.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NETWORK_WORDS = ("connection", "resolve", "timed out", "timeout", "network", "unreachable", "name or service", "max retries")


def verdict(report: dict[str, Any]) -> tuple[int, str]:
    """Exit code and message for pip-audit's JSON report: 1 on any known vulnerability, else 0."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if "skip_reason" not in d]
    if vulnerable:
        lines = [f"  {d['name']} {d.get('version', '')}: {v['id']}"
                 + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else " (no fix yet)")
                 for d in vulnerable for v in d["vulns"]]
        return 1, "dependency audit: FAILED — known vulnerabilities:\n" + "\n".join(lines)
    if not audited:
        reason = skipped[0]["skip_reason"] if skipped else "pip-audit reported no dependencies"
        return 0, (f"dependency audit: SKIPPED — none of the {len(skipped)} dependencies could be checked; the "
                   f"vulnerability service has no answer for them from this machine (e.g. {reason})")
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        return 0, (f"dependency audit: no known vulnerabilities in {len(audited)} checked dependencies; "
                   f"{len(skipped)} could not be checked: {names}")
    return 0, f"dependency audit: no known vulnerabilities in {len(audited)} dependenc{'y' if len(audited) == 1 else 'ies'}"


def main() -> int:
    cmd = [sys.executable, "-m", "pip_audit", "--requirement", str(ROOT / "requirements.txt"), "--progress-spinner", "off",
           "--format", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        print("dependency audit: SKIPPED — the vulnerability service did not answer within 5 minutes")
        return 0
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        output = (proc.stdout + proc.stderr).strip()
        if any(word in output.lower() for word in NETWORK_WORDS):
            print("dependency audit: SKIPPED — the vulnerability service cannot be reached from this machine:")
            print("  " + (output.splitlines() or [""])[-1][:300])
            return 0
        print(output)
        print("dependency audit: FAILED — pip-audit could not complete (see above)")
        return 1
    code, message = verdict(report)
    print(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
