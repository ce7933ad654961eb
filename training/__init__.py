"""The Evoxtral reference training (SFT -> RAFT with LoRA on Voxtral) and ``predict``.

Run from the repository root: ``python -m training {sft,raft,predict} --help``.
"""
