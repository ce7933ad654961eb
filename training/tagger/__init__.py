"""The cascade baseline ``whisper-tiny-en-tagger``: Whisper's words plus a small event tagger.

A PyTorch model (two strided conv1d layers, a bidirectional GRU, a linear layer) reads the
log-mel frames of a clip (100 frames/s) and gives, every 40 ms, the probability of each of
the 17 canonical tags and of CAPS emphasis. It is trained on the offline audio of the train
split, with frame labels from the synthesis manifest's tag and word spans
(:mod:`~training.tagger.labels`); a decoding rule per tag (threshold, merge gap, minimum
length) is tuned on the validation split. At prediction time the frames above threshold become events
(:mod:`~training.tagger.decode`) that are inserted between Whisper's words
(:mod:`~training.tagger.insert`).

Modules: ``clips`` (synthesized audio folders), ``config`` (YAML + overrides), ``labels``,
``features``, ``model`` (network, checkpoint), ``decode``, ``insert``, ``train`` and
``predict`` (the two commands), ``cli`` (the arguments of the baseline commands).
"""
