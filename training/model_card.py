"""The adapter's model card (``adapter/README.md``), filled in from the resolved configuration,
the training metrics, RAFT's selection summary and the benchmark results."""

from __future__ import annotations

from pathlib import Path
from string import Template

from evoxtral_bench import METRICS, write_text

from .config import Config

TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"

STAGES = {
    "sft": ("Evoxtral SFT", "Stage 1 of the paper's recipe: supervised fine-tuning on the tagged transcripts."),
    "raft": (
        "Evoxtral RAFT",
        "Stage 2 of the paper's recipe: rejection-sampling fine-tuning (RAFT) from the SFT adapter on the "
        "model's own best-rewarded transcripts.",
    ),
}



def _percent(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def format_count(n: int) -> str:
    """124780544 -> '124.8 M'; small counts as they are."""
    if n >= 1e9:
        return f"{n / 1e9:.2f} B"
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n:,}"


def _model_link(base: str) -> str:
    """A hub id links to its page; a local folder is shown as a path."""
    is_hub_id = base.count("/") == 1 and not base.startswith((".", "/", "~")) and not Path(base).exists()
    return f"[`{base}`](https://huggingface.co/{base})" if is_hub_id else f"`{base}`"


def training_rows(cfg: Config, stage: str, trainable: tuple[int, int], precision: str, metrics: dict) -> str:
    tc = cfg.sft if stage == "sft" else cfg.raft
    lora = cfg.lora
    targets = ", ".join(lora.text_modules)
    if lora.projector_modules:
        targets += "; projector " + ", ".join(lora.projector_modules)
    if lora.audio_encoder_qkv:
        targets += "; audio encoder q/k/v_proj"
    rows = [
        ("base model", f"`{cfg.model.base}`"),
        ("LoRA", f"r {lora.r}, alpha {lora.alpha}, dropout {lora.dropout}"),
        ("LoRA targets", targets),
        ("trainable parameters", f"{format_count(trainable[0])} / {format_count(trainable[1])} ({100 * trainable[0] / trainable[1]:.1f}%)"),
        ("learning rate", f"{tc.learning_rate:g}, {tc.lr_scheduler_type}, warm-up {tc.warmup_steps:g}"),
        ("epochs", f"{tc.num_train_epochs:g}" + (f" (max_steps {tc.max_steps})" if tc.max_steps > 0 else "")),
        ("batch", f"{tc.per_device_train_batch_size} × gradient accumulation {tc.gradient_accumulation_steps} per device"),
        ("NEFTune noise alpha", "off" if tc.neftune_noise_alpha is None else f"{tc.neftune_noise_alpha:g}"),
        ("precision", precision),
        ("seed", str(tc.seed)),
    ]
    if stage == "raft":
        rows += [
            ("started from", f"`{cfg.raft.adapter}`"),
            ("samples", f"{cfg.raft.samples_per_utterance} per utterance, temperature {cfg.raft.temperature:g}, top-p {cfg.raft.top_p:g}"),
            ("reward", f"{cfg.raft.reward_wer:g}·(1 − WER) + {cfg.raft.reward_tag_f1:g}·tag F1 + {cfg.raft.reward_hallucination:g}·(1 − hallucination)"),
        ]
    if "training_loss" in metrics:
        rows.append(("final training loss", f"{metrics['training_loss']:.4f} (mean over the run)"))
    if "train_runtime" in metrics:
        rows.append(("training time", f"{metrics['train_runtime'] / 60:.1f} min, {metrics.get('global_step', '?')} optimizer steps"))
    return "\n".join(f"| {k} | {v} |" for k, v in rows)


def selection_text(summary: dict | None) -> str:
    if not summary:
        return ""
    return (
        f"RAFT selection: the best of {summary['samples_per_utterance']} samples for each of {summary['utterances']} "
        f"training utterances; the lowest {summary['dropped']} by reward were dropped, {summary['kept']} kept "
        f"(reward ≥ {summary['threshold']:.3f}, mean kept reward {summary['mean_kept_reward']:.3f})."
    )


def evaluation_text(results: dict | None) -> str:
    if results is None:
        return "Not evaluated here (`eval.split` was null). Score with `evoxtral-bench score`."
    bench = results["benchmark"]
    lines = [
        f"Evoxtral-Bench corpus-level metrics on split `{bench['split']}` (n = {bench['n']}), "
        "in %, with 95% bootstrap intervals:",
        "",
        "| metric | value | 95% interval |",
        "|---|---|---|",
    ]
    for name in ("wer", "cer", "tag_f1", "tag_precision", "tag_recall", "tag_hallucination_rate", "emphasis_f1"):
        label = f"{METRICS[name].label} {METRICS[name].arrow}"
        m = results["metrics"][name]
        if m["defined"]:
            value = _percent(m["value"])
            interval = f"[{_percent(m['ci_low'])}, {_percent(m['ci_high'])}]" if m["ci_low"] is not None else "–"
        else:
            value, interval = "undefined (no denominator)", "–"
        lines.append(f"| {label} | {value} | {interval} |")
    lines += ["", f"Signature: `{results['signature']}`"]
    return "\n".join(lines)


def render(
    cfg: Config,
    stage: str,
    *,
    trainable: tuple[int, int],
    precision: str,
    metrics: dict,
    results: dict | None,
    selection: dict | None = None,
) -> str:
    """The card of a ``stage`` ("sft" or "raft") adapter: ``trainable`` is (LoRA, all)
    parameters, ``metrics`` the Trainer's final metrics, ``results`` the benchmark document."""
    title, description = STAGES[stage]
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        base_model=cfg.model.base,
        base_model_link=_model_link(cfg.model.base),
        title=title,
        stage=stage,
        stage_description=description,
        training_rows=training_rows(cfg, stage, trainable, precision, metrics),
        selection=selection_text(selection),
        evaluation=evaluation_text(results),
    )


def write(adapter_dir: Path, text: str) -> Path:
    path = Path(adapter_dir) / "README.md"
    write_text(path, text)
    return path
