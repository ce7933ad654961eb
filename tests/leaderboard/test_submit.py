"""The submission flow: ``leaderboard new``, ``leaderboard summary``, the workflow and PR template."""

from __future__ import annotations

import shutil

import yaml

from tests.leaderboard.fixtures import ROOT, SUBMISSIONS, VERIFIED_META, synthetic_predictions, write_entry

WORKFLOW = ROOT / ".github/workflows/leaderboard-entry.yml"


def test_new_then_check_passes_on_a_fresh_entry(tmp_path, cli):
    predictions = SUBMISSIONS / "whisper-tiny-en/predictions.jsonl"
    new = ("leaderboard", "new", "fresh", "--predictions", predictions, "--submissions", tmp_path, "--date", "2026-11-29")
    code, out, err = cli(*new, "--track", "neural-v1")
    assert code == 0, err
    assert "not ready, 4 TODO: placeholder values left to fill in (listed above); 1 entry (1 verified, 0 reported) otherwise valid" in out
    assert "OK" not in out
    assert (tmp_path / "fresh/predictions.jsonl").read_bytes() == predictions.read_bytes()
    meta = yaml.safe_load((tmp_path / "fresh/meta.yaml").read_text(encoding="utf-8"))
    assert meta["kind"] == "verified" and meta["in_distribution"] is False and str(meta["date"]) == "2026-11-29"
    assert meta["track"] == "neural-v1" and "reference" not in meta and "audio" not in meta
    assert "warning: name: still a placeholder" in err  # the TODO values are pointed out, not fatal
    code, out, _ = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 0 and "not ready, 4 TODO: placeholder values left" in out and "OK" not in out
    meta_path = tmp_path / "fresh/meta.yaml"
    filled = {"name": "Fresh", "organization": "Lab", "base_model": "none", "license": "MIT"}
    meta_path.write_text(
        "".join(f"{line.split(':')[0]}: {filled[line.split(':')[0]]}\n" if "TODO:" in line and not line.startswith("#") else line + "\n"
                for line in meta_path.read_text(encoding="utf-8").splitlines()),
        encoding="utf-8",
    )
    code, out, err = cli("leaderboard", "check", "--submissions", tmp_path)
    assert code == 0 and out == f"{tmp_path}: OK, 1 entry (1 verified, 0 reported)\n" and "placeholder" not in err


def test_new_needs_a_track_and_none_makes_a_reference_row(tmp_path, cli):
    predictions = SUBMISSIONS / "oracle-plain/predictions.jsonl"
    code, _, err = cli("leaderboard", "new", "text", "--predictions", predictions, "--submissions", tmp_path)
    assert code == 2 and "--track" in err and not (tmp_path / "text").exists()
    code, _, err = cli("leaderboard", "new", "text", "--predictions", predictions, "--submissions", tmp_path, "--track", "studio")
    assert code == 2 and "invalid choice: 'studio'" in err and "neural-v1" in err
    code, out, err = cli("leaderboard", "new", "text", "--predictions", predictions, "--submissions", tmp_path, "--track", "none")
    assert code == 0 and "placeholder values left" in out, err
    meta = yaml.safe_load((tmp_path / "text/meta.yaml").read_text(encoding="utf-8"))
    assert meta["track"] == "none" and meta["reference"] is True


def test_new_refuses_bad_input(tmp_path, cli):
    predictions = SUBMISSIONS / "whisper-tiny-en/predictions.jsonl"
    track = ("--track", "espeak-v1")
    code, _, err = cli("leaderboard", "new", "Bad_Slug", "--predictions", predictions, "--submissions", tmp_path, *track)
    assert code == 2 and "not a valid slug" in err
    code, _, err = cli("leaderboard", "new", "x", "--predictions", tmp_path / "missing.jsonl", "--submissions", tmp_path, *track)
    assert code == 2 and "no such file" in err
    (tmp_path / "taken").mkdir()
    code, _, err = cli("leaderboard", "new", "taken", "--predictions", predictions, "--submissions", tmp_path, *track)
    assert code == 2 and "already exists" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing written


def test_new_validates_every_option_before_writing_anything(tmp_path, cli):
    predictions = SUBMISSIONS / "whisper-tiny-en/predictions.jsonl"
    new = ("leaderboard", "new", "fresh", "--predictions", predictions, "--submissions", tmp_path, "--track", "espeak-v1")
    for date, message in (
        ("notadate", "--date: expected a date YYYY-MM-DD (or YYYY-MM, YYYY), got 'notadate'"),
        ("2026-02-30", "--date: '2026-02-30' is not a calendar date"),
        ("2026-01-01\nreference: true", "--date: expected a date"),  # a newline would inject a YAML field
        ("2026-01-01 # x", "--date: expected a date"),
    ):
        code, out, err = cli(*new, "--date", date)
        assert code == 2 and message in err and "Traceback" not in err, (date, err)
        assert list(tmp_path.iterdir()) == []  # nothing written, so the corrected rerun is not "already exists"
    train = tmp_path.parent / "train-ids.jsonl"
    from evoxtral_bench.scoring.core import shipped_references

    rows = [line for line in shipped_references().read_text(encoding="utf-8").splitlines() if '"split": "train"' in line][:5]
    train.write_text("".join(line.replace('"tagged_text"', '"prediction"') + "\n" for line in rows), encoding="utf-8")
    code, _, err = cli("leaderboard", "new", "fresh", "--predictions", train, "--submissions", tmp_path, "--track", "espeak-v1")
    assert code == 2 and "none of the 5 predictions is for an id of split test" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = cli(*new, "--date", "2026-01-01")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh"] and sorted(p.name for p in (tmp_path / "fresh").iterdir()) == [
        "meta.yaml",
        "predictions.jsonl",
    ]
    meta = yaml.safe_load((tmp_path / "fresh/meta.yaml").read_text(encoding="utf-8"))
    assert str(meta["date"]) == "2026-01-01" and "reference" not in meta


def test_rendered_meta_is_read_back_before_it_is_written():
    from evoxtral_bench.errors import InputError
    from evoxtral_bench.leaderboard import scaffold

    scaffold._check_rendered(scaffold.meta_template("x", "2026-01-01", "none"), "2026-01-01", "none")
    injected = scaffold.meta_template("x", "2026-01-01\nreference: true", "espeak-v1")
    try:
        scaffold._check_rendered(injected, "2026-01-01\nreference: true", "espeak-v1")
    except InputError as exc:
        assert "would change meta.yaml's fields" in str(exc)
    else:
        raise AssertionError("an injected field was not noticed")


def test_new_writes_the_folder_whole_or_not_at_all(tmp_path, cli, monkeypatch):
    import errno
    import shutil as shutil_module

    predictions = SUBMISSIONS / "whisper-tiny-en/predictions.jsonl"

    def full_disk(src, dst, *args, **kwargs):  # the disk fills up while the predictions are copied
        open(dst, "wb").write(b"{")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil_module, "copyfile", full_disk)
    code, _, err = cli("leaderboard", "new", "fresh", "--predictions", predictions, "--submissions", tmp_path, "--track", "espeak-v1")
    assert code == 2 and f"cannot write {tmp_path / 'fresh'}: No space left on device" in err
    assert list(tmp_path.iterdir()) == []  # neither the entry nor its temporary folder


def test_summary_shows_the_change_beside_the_current_ranks(tmp_path, cli):
    before, after = tmp_path / "before", tmp_path / "after"
    for root in (before, after):
        for slug in ("oracle-tags-misplaced", "paper-evoxtral-rl"):
            shutil.copytree(SUBMISSIONS / slug, root / slug)
        write_entry(root, "sys-a", {**VERIFIED_META, "name": "A"}, synthetic_predictions(1, tag_drop=0.2))
    write_entry(after, "sys-b", {**VERIFIED_META, "name": "B"}, synthetic_predictions(2, tag_drop=0.9))
    code, out, err = cli("leaderboard", "summary", "--submissions", after, "--before", before)
    assert code == 0, err
    assert "Changed: `sys-b`" in out
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in out.splitlines() if line.startswith("| ") and "---" not in line}
    assert rows["**sys-b** (changed)"][2:4] == ["2", "new"]  # far fewer tags: below sys-a
    assert rows["sys-a"][2:4] == ["1", "1"]
    assert rows["oracle-tags-misplaced"][2] == "ref." and rows["paper-evoxtral-rl"][2] == "–"
    assert "Warnings" not in out
    (after / "sys-b/meta.yaml").write_text(
        (after / "sys-b/meta.yaml").read_text(encoding="utf-8").replace("name: B", "name: 'TODO: a name'"), encoding="utf-8"
    )
    code, out, _ = cli("leaderboard", "summary", "--submissions", after, "--before", before)
    assert code == 0 and "Warnings from" in out and "name: still a placeholder" in out
    (after / "sys-b/meta.yaml").write_text("name: x\n", encoding="utf-8")
    code, _, err = cli("leaderboard", "summary", "--submissions", after, "--before", before)
    assert code == 2 and "organization: missing (required)" in err


def test_workflow_is_valid_and_runs_only_the_project_commands():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert trigger == {"pull_request": {"paths": ["submissions/**"]}}
    assert workflow["permissions"] == {"contents": "read"}
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert {step["uses"].split("@")[0] for step in steps if "uses" in step} == {"actions/checkout", "actions/setup-python"}
    runs = [step["run"] for step in steps if "run" in step]
    assert runs[0] == 'python -m pip install -e ".[leaderboard]"'
    assert all(run.startswith("evoxtral-bench leaderboard ") for run in runs[1:])
    assert any(" check " in run for run in runs) and any("summary" in run and "$GITHUB_STEP_SUMMARY" in run for run in runs)
    template = (ROOT / ".github/pull_request_template.md").read_text(encoding="utf-8")
    assert "evoxtral-bench leaderboard new" in template and "leaderboard check" in template
