"""``evoxtral-bench run``: any model over a track's benchmark audio, the same way for everybody.

:func:`evoxtral_bench.runner.run.run_model` is the entry point; the backends are in
:mod:`evoxtral_bench.runner.backends`, the audio in :mod:`evoxtral_bench.runner.audio`, and
the one resumable prediction loop in :mod:`evoxtral_bench.runner.loop`. The model libraries
(torch, transformers, peft, faster-whisper, requests, the ElevenLabs SDK) are the ``[run]``
extra and are imported by the backend that needs them.
"""

from evoxtral_bench.runner.backends.ct2 import SHIPPED, model_dir
from evoxtral_bench.runner.backends.transformers import generation_config
from evoxtral_bench.runner.loop import sidecar, transcribe_all
from evoxtral_bench.runner.markup import scoreable
from evoxtral_bench.runner.resumable import read_rows, run_batches, write_rows

__all__ = [
    "SHIPPED",
    "generation_config",
    "model_dir",
    "read_rows",
    "run_batches",
    "scoreable",
    "sidecar",
    "transcribe_all",
    "write_rows",
]
"""What ``training/`` (the recipe) may use of the runner: the one prediction loop, its resumable
rows, the markup cleaner and the backends' model locations (docs/spec.md §13)."""
