"""The Evoxtral reference training (SFT -> RAFT with LoRA) and ``predict``, for Voxtral
(``configs/paper.yaml``, GPU) and Whisper (``configs/whisper-tiny-en.yaml``, CPU; the base model
comes from ``python -m training convert``). What differs between the two is in
:mod:`training.families`.

Run from the repository root: ``python -m training {sft,raft,predict,convert} --help``.
"""
