"""Train a character language model on your own text file, then generate text from it.

    python examples/charlm_own_text.py my_text.txt      # any UTF-8 text; the last 10 % is held out
    python examples/charlm_own_text.py                  # writes demo_text.txt (a small made-up text) and uses it

Writes runs/own-charlm/ (report.html, samples.txt, figures) and prints nats per character against a 5-gram
and a continuation of a prompt. The same from YAML: `pinngen run examples/charlm_own_text.yaml --set
data.source=my_text.txt`, then `pinngen sample runs/own-charlm --prompt "The " -n 300`.
"""

import sys

import numpy as np

import pinngen


def demo_text(path: str = "demo_text.txt", n_lines: int = 1500) -> str:
    """A stand-in for your text: short sentences from a tiny grammar (about 60,000 characters)."""
    rng = np.random.default_rng(0)
    who = ["the cat", "a dog", "the old man", "my sister", "the queen", "a small bird"]
    did = ["sat on", "looked at", "ran past", "sang to", "forgot", "found"]
    what = ["the mat", "a red door", "the river", "her book", "the moon", "an apple"]
    lines = [f"{rng.choice(who).capitalize()} {rng.choice(did)} {rng.choice(what)}." for _ in range(n_lines)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main(path: str | None = None, steps: int = 1500, minutes: float = 10.0) -> None:
    path = path or demo_text()
    config = {
        "kind": "charlm",
        "name": "own-charlm",
        "data": {"source": path, "val": 0.1, "block": 128},
        "model": {"arch": "lstm", "hidden": 256, "embed": 64, "dropout": 0.2},  # or "gru" / "transformer"
        "evaluation": {"temperatures": [0.5, 1.0], "sample_chars": 300},
        "train": {"eval_every": 100, "max_train_seconds": 60 * minutes,
                  "phases": [{"optimizer": "adam", "lr": 3e-3, "schedule": "warmup_cosine", "warmup_steps": 100,
                              "end_lr_factor": 0.05, "clip_norm": 1.0, "steps": steps, "batch_size": 32}]},
    }
    run = pinngen.run(config, out="runs/own-charlm")
    print(run.metrics["summary"]["headline"])
    for finding in run.findings:  # still learning? overfitting?
        print(finding)
    with open(path, encoding="utf-8") as f:
        prompt = f.read(12)  # any text made of characters the model has seen
    print(run.generate(prompt, 300, temperature=0.8, seed=1))
    print(f"report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
