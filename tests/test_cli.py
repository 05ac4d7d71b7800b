"""The command line contract: exit codes, JSON shapes, clear one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from minikb import write_mini_kb

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipguide", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_validate_shipped_knowledge_prints_a_summary():
    out = run("validate")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("knowledge valid: 5 sources, ")
    for word in ("claims", "topics", "conflicts", "conditions", "findings"):
        assert word in out.stdout


def test_validate_reports_every_problem_as_path_line_message(tmp_path):
    root = write_mini_kb(tmp_path / "knowledge")
    (root / "conditions.yaml").write_text((root / "conditions.yaml").read_text().replace("prior: 0.2", "prior: 2"))
    (root / "red_flags.yaml").write_text((root / "red_flags.yaml").read_text().replace("- rf_saddle", "- rf_nope"))
    out = run("validate", "--knowledge", str(root))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[-1] == "2 problem(s) found"
    assert all(line.split(":")[1].isdigit() for line in lines[:-1])
    assert {line.split(":")[0] for line in lines[:-1]} == {"knowledge/conditions.yaml", "knowledge/red_flags.yaml"}


def test_sources_json_contract():
    out = run("sources", "--json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    assert len(rows) == 5
    for row in rows:
        assert set(row) >= {"id", "title", "publisher", "path", "flags", "duplicate_of"}
        assert (ROOT / "knowledge" / row["path"]).is_file()
    dup = {r["id"]: r["duplicate_of"] for r in rows}
    assert dup["deep_rotator_v2"] == "deep_rotator_v1" and dup["medshun"] is None


def test_conflicts_json_contract():
    out = run("conflicts", "--json")
    assert out.returncode == 0
    rows = {r["topic"]: r for r in json.loads(out.stdout)}
    for topic in ("ice", "heat", "strengthening", "foam_rolling"):
        assert rows[topic]["conflict"] is True
        adopted = rows[topic]["adopted"]
        assert set(adopted) >= {"stance", "advice", "rationale", "certainty", "status", "phases"}
        assert set(adopted["phases"]) == {"acute", "recovery", "prevention"}
        for claim in rows[topic]["claims"]:
            assert set(claim) >= {"source", "stance", "quote"}


def test_assess_json_and_clear_errors(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("findings: [loc_deep_central_buttock, onset_day_after_exercise, aggr_sitting]\n"
                    "absent: [test_slr_positive]\nphase: acute\nage: 34\n")
    out = run("assess", str(case), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["phase"] == "acute" and result["triage"]["level"] == "routine"
    assert result["differential"][0]["condition"] == "deep_hip_rotator_overload"

    case.write_text("findings: [loc_deep_central_buttock, made_up_finding]\n")
    out = run("assess", str(case), "--json")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == "error: unknown finding id(s): made_up_finding"

    case.write_text("findings: [loc_deep_central_buttock\n")
    out = run("assess", str(case), "--json")
    assert out.returncode == 1 and "Traceback" not in out.stderr and "YAML syntax error" in out.stderr

    out = run("assess", str(tmp_path / "missing.yaml"), "--json")
    assert out.returncode == 1 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_assess_with_a_complete_pain_drawing_counts_unmarked_locations_as_absent(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("findings: [loc_deep_central_buttock, aggr_sitting]\n")
    before = json.loads(run("assess", str(case), "--json").stdout)
    assert before["pain_drawing_complete"] is False and before["assessed"]["absent"] == []
    case.write_text("findings: [loc_deep_central_buttock, aggr_sitting]\npain_drawing_complete: true\n")
    out = run("assess", str(case), "--json")
    assert out.returncode == 0, out.stderr
    after = json.loads(out.stdout)
    assert after["pain_drawing_complete"] is True
    assert "loc_low_back" in after["assessed"]["absent"] and "loc_groin" in after["assessed"]["absent"]
    assert "loc_deep_central_buttock" in after["assessed"]["present"]
    assert after["differential"] != before["differential"]
    case.write_text("findings: []\npain_drawing_complete: maybe\n")
    out = run("assess", str(case), "--json")
    assert out.returncode == 1 and "pain_drawing_complete" in out.stderr


def test_vignettes_all_pass_and_summary_line_last():
    out = run("vignettes")
    assert out.returncode == 0, out.stdout
    lines = out.stdout.strip().splitlines()
    assert len(lines) >= 13
    n = len(lines) - 1
    assert lines[-1] == f"{n} passed, 0 failed"


def test_vignettes_failing_case_exits_1(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    (d / "wrong.yaml").write_text("title: Wrong expectation\nfindings: [rf_saddle_anaesthesia]\n"
                                  "expect:\n  triage: routine\n")
    out = run("vignettes", str(d))
    assert out.returncode == 1
    assert out.stdout.strip().splitlines() == [
        "FAIL wrong: Wrong expectation — triage is emergency, expected routine", "0 passed, 1 failed"]


@pytest.mark.parametrize("command", ["validate", "sources", "conflicts", "vignettes"])
def test_missing_knowledge_dir_is_a_clear_error(command, tmp_path):
    out = run(command, "--knowledge", str(tmp_path / "nowhere"))
    assert out.returncode == 1 and "knowledge directory not found" in out.stderr and "Traceback" not in out.stderr


def test_held_out_vignette_problems_name_file_and_line(tmp_path):
    d = tmp_path / "held_out"
    d.mkdir()
    (d / "bad.yaml").write_text("title: Typo in a key\nfindings: [loc_groin]\nexpect:\n  top1: sciatica\n  triage_atleast: urgent\n")
    out = run("vignettes", str(d))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "held_out/bad.yaml:5: unknown key 'triage_atleast'" in out.stderr


@pytest.mark.parametrize("nested", [
    "topics: " + "[" * 100_000 + "]" * 100_000 + "\n",  # flow brackets
    "topics:\n" + "- " * 100_000 + "x\n",  # chained block indicators on one line
    "topics:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),  # ever deeper indentation
], ids=["flow", "chained", "indented"])
def test_absurdly_deep_nesting_is_a_clear_error_not_a_crash(tmp_path, nested):
    # The C parser recurses once per level: unchecked, this text takes the whole process down.
    root = write_mini_kb(tmp_path / "knowledge")
    (root / "topics.yaml").write_text(nested)
    out = run("validate", "--knowledge", str(root))
    assert out.returncode == 1, out.stderr[-500:]
    assert "Traceback" not in out.stderr
    assert "knowledge/topics.yaml:" in out.stderr and "nested more than 50 levels deep" in out.stderr


@pytest.mark.parametrize(("case_text", "message"), [
    ("findings: [loc_groin]\nsex: sometimes\n", "error: malformed case: sex: Input should be 'female' or 'male'"),
    ("findings: [loc_groin]\nage: 300\n", "error: malformed case: age: Input should be less than or equal to 120"),
    ("findings: [loc_groin]\nage: old\n", "error: malformed case: age: Input should be a valid integer, unable to parse string as an integer"),
    ("findings: [rf_not_a_flag]\n", "error: unknown finding id(s): rf_not_a_flag"),
])
def test_bad_demographics_and_ids_are_one_line_errors(tmp_path, case_text, message):
    case = tmp_path / "case.yaml"
    case.write_text(case_text)
    out = run("assess", str(case), "--json")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == message


def test_assess_json_says_which_checks_were_not_made_and_what_the_plan_withholds(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("findings: [loc_groin, rf_major_trauma_or_fall]\n")
    result = json.loads(run("assess", str(case), "--json").stdout)
    unchecked = {u["rule"]: u for u in result["triage"]["not_assessed"]}
    assert unchecked["hip_fracture_fall_older"]["needs"] == ["age"]
    assert "Record the age" in result["triage"]["not_assessed_note"]
    assert {w["topic"] for w in result["withheld"]} >= {"strengthening", "stretching"}

    case.write_text("findings: [loc_groin, rf_cancer_history, aggr_walking]\nage: 63\nsex: female\n")
    result = json.loads(run("assess", str(case), "--json").stdout)
    assert result["triage"]["level"] == "urgent"
    assert {"malignancy_weight_bearing_pain", "malignancy_cancer_history_over_50"} <= {r["rule"] for r in result["triage"]["reasons"]}
    offered = {item["topic"]: item["stance"] for item in result["plan"]}
    assert all(offered.get(t) in (None, "advise_against") for t in ("heat", "stretching", "strengthening", "run_it_out"))
    assert all("do not start treatment" in w["reason"] for w in result["withheld"])


# --- the editorial commands: history and save-guidance, through the same path as the editor page ------

def test_history_and_save_guidance_record_every_save_as_a_commit(knowledge_copy):
    k = ["--knowledge", str(knowledge_copy)]
    [imported] = json.loads(run("history", "ice", "--json", *k).stdout)
    assert set(imported) >= {"id", "author", "date", "note", "files", "topic"}
    assert imported["topic"] == "ice" and "guidance/ice.yaml" in imported["files"]

    edited = knowledge_copy.parent / "ice.yaml"
    text = (knowledge_copy / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("certainty: ", "certainty: very_low\n_old_certainty: ", 1).replace("_old_certainty: ", "# ", 1),
                      encoding="utf-8")
    saved = run("save-guidance", str(edited), "--editor", "ana@clinic.example", "--note", "certainty is very low",
                "--base", imported["id"], *k)
    assert saved.returncode == 0, saved.stderr
    [latest, first] = json.loads(run("history", "ice", "--json", *k).stdout)
    assert (latest["author"], latest["note"], latest["files"], latest["topic"]) == (
        "ana@clinic.example", "certainty is very low", ["guidance/ice.yaml"], "ice")
    assert latest["status"] == "draft" and first["id"] == imported["id"]
    assert "certainty: very_low" in (knowledge_copy / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    every = json.loads(run("history", "--json", *k).stdout)
    assert every[0]["id"] == latest["id"] and len(every) == 2

    refused = run("save-guidance", str(edited), "--editor", "ben@clinic.example", "--note", "mine", "--base", imported["id"], *k)
    assert refused.returncode == 3
    assert "--- theirs" in refused.stderr and "--- yours" in refused.stderr and "Traceback" not in refused.stderr
    assert len(json.loads(run("history", "ice", "--json", *k).stdout)) == 2  # nothing written


def test_save_guidance_invalid_is_exit_1_with_path_line_message_and_nothing_written(knowledge_copy):
    k = ["--knowledge", str(knowledge_copy)]
    base = json.loads(run("history", "ice", "--json", *k).stdout)[0]["id"]
    edited = knowledge_copy.parent / "ice.yaml"
    text = (knowledge_copy / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("strength: ", "strength: enormous\n# ", 1), encoding="utf-8")
    result = run("save-guidance", str(edited), "--editor", "ana@clinic.example", "--note", "x", "--base", base, *k)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert any(line.startswith("guidance/ice.yaml:") and "strength" in line for line in result.stderr.splitlines()), result.stderr
    edited.write_text("&a x: 1\n", encoding="utf-8")
    result = run("save-guidance", str(edited), "--editor", "ana@clinic.example", "--note", "x", "--base", base, *k)
    assert result.returncode == 1 and "anchor" in result.stderr
    assert len(json.loads(run("history", "ice", "--json", *k).stdout)) == 1
