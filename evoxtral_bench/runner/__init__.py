"""``evoxtral-bench run``: any model over a track's benchmark audio, the same way for everybody.

:func:`evoxtral_bench.runner.run.run_model` is the entry point; the backends are in
:mod:`evoxtral_bench.runner.backends`, the audio in :mod:`evoxtral_bench.runner.audio`, and
the one resumable prediction loop in :mod:`evoxtral_bench.runner.loop`. The model libraries
(torch, transformers, peft, faster-whisper, requests, the ElevenLabs SDK) are the ``[run]``
extra and are imported by the backend that needs them.
"""
