"""Systems counted in worker processes (issue 15): the same tables and documents as in one process."""

from __future__ import annotations

import numpy as np
import pytest

import evoxtral_bench
from evoxtral_bench.errors import InputError
from evoxtral_bench.leaderboard.oracle import corrupt
from evoxtral_bench.scoring import core
from evoxtral_bench.scoring.options import Options
from tests.helpers import SMALL_REFS, refs_rows


@pytest.fixture
def systems():
    import random

    rows = refs_rows()
    rng = random.Random(3)
    return [{r["id"]: corrupt(r["tagged_text"], rng) for r in rows} for _ in range(3)]


@pytest.fixture
def parallel(monkeypatch):
    """Worker processes from the first utterance (the real pool, not a stand-in)."""
    monkeypatch.setattr(core, "PARALLEL_MIN_ROWS", 0)


def test_tables_from_two_processes_equal_one_process_in_system_order(parallel, systems):
    refs = evoxtral_bench.load_references(SMALL_REFS)
    texts = [[s[r.id] for r in refs.rows] for s in systems]
    alone = core.build_tables(texts, refs, Options(), workers=1)
    shared = core.build_tables(texts, refs, Options(), workers=2)
    assert len(shared) == 3
    for (a, oov_a), (b, oov_b) in zip(alone, shared):
        assert a.columns == b.columns and a.labels == b.labels and oov_a == oov_b
        assert np.array_equal(a.matrix, b.matrix)
    # the three systems differ, so a shuffled order would have failed above
    assert not np.array_equal(alone[0][0].matrix[:, :4], alone[1][0].matrix[:, :4])


def test_compare_and_grounding_documents_are_identical_with_two_workers(parallel, systems):
    a, b = systems[0], systems[1]
    one = evoxtral_bench.compare(a=a, b=b, references=SMALL_REFS, bootstrap=200, workers=1).to_dict()
    two = evoxtral_bench.compare(a=a, b=b, references=SMALL_REFS, bootstrap=200, workers=2).to_dict()
    assert one == two and one["metrics"]["tag_f1"]["delta"] != 0
    kwargs = {"predictions": a, "masked": b, "references": SMALL_REFS, "bootstrap": 200, "track": "espeak-v1"}
    assert evoxtral_bench.score(workers=1, **kwargs).to_dict() == evoxtral_bench.score(workers=2, **kwargs).to_dict()


def test_workers_below_one_are_refused():
    with pytest.raises(InputError, match="workers must be 1 or more"):
        evoxtral_bench.compare(a={}, b={}, references=SMALL_REFS, workers=0)
    with pytest.raises(InputError, match="workers must be 1 or more"):
        evoxtral_bench.score(predictions={}, references=SMALL_REFS, workers=0)
