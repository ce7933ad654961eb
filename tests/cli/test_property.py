"""Property test (issue 10): random bytes and random JSON values as predictions, references and
meta.yaml never make the CLI fail with exit 1 ("this is a bug"), and each run is quick."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evoxtral_bench.cli.app import main
from tests.helpers import SMALL_REFS, refs_rows
from tests.leaderboard.fixtures import VERIFIED_META

IDS = [r["id"] for r in refs_rows()]
SECONDS = 10.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {"id": st.sampled_from(IDS) | json_values},
    optional={"prediction": st.text(max_size=60) | json_values, "tagged_text": st.text(max_size=60) | json_values, "split": json_values},
)


def _jsonl(values: list) -> bytes:
    return "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode("utf-8", "surrogatepass")


files = st.binary(max_size=400) | st.lists(json_values, max_size=5).map(_jsonl) | st.lists(records, max_size=8).map(_jsonl)
meta_files = (
    st.binary(max_size=400)
    | json_values.map(lambda v: yaml.safe_dump(v).encode("utf-8", "surrogatepass"))
    | st.dictionaries(st.sampled_from(sorted(VERIFIED_META)), json_values, max_size=8).map(
        lambda d: yaml.safe_dump({**VERIFIED_META, **d}).encode("utf-8", "surrogatepass")
    )
)


def _run(*args: object) -> int:
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    assert time.monotonic() - start < SECONDS, args
    assert code in (0, 2), err.getvalue()
    return code


COMMON = settings(max_examples=int(os.environ.get("EVOXTRAL_PROPERTY_EXAMPLES", "15")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(predictions=files, references=files, legacy=st.booleans())
def test_random_predictions_and_references(predictions, references, legacy):
    with tempfile.TemporaryDirectory() as tmp:
        preds, refs = Path(tmp, "p.jsonl"), Path(tmp, "r.jsonl")
        preds.write_bytes(predictions)
        refs.write_bytes(references)
        extra = ["--legacy"] if legacy else []
        _run("score", preds, "--references", SMALL_REFS, "--bootstrap", "20", *extra)
        _run("score", preds, "--references", refs, "--bootstrap", "20", *extra)
        _run("validate", preds, "--references", refs)


@COMMON
@given(meta=meta_files)
def test_random_meta_yaml(meta):
    with tempfile.TemporaryDirectory() as tmp:
        entry = Path(tmp, "entry")
        entry.mkdir()
        (entry / "meta.yaml").write_bytes(meta)
        (entry / "predictions.jsonl").write_text(json.dumps({"id": IDS[0], "prediction": "hi"}) + "\n")
        _run("leaderboard", "check", "--submissions", tmp)
