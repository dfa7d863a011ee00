"""The verdict dashboard that opens the reports index: what every report concluded, in a few lines,
each linking to its report. Read from the files on disk (``parity.csv``, the MNIST run folders,
``benchmarks.csv``, ``numgrad_speed.csv``); a missing file leaves its line out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

KINDS = ("layer", "loss", "initializer", "optimizer", "schedule", "callback")


def parity_lines(out: Path) -> list[str]:
    """Per kind: pass / known difference / FAIL counts, linked to the kind's page."""
    csv = out / "parity.csv"
    if not csv.exists():
        return []
    df = pd.read_csv(csv, usecols=["kind", "verdict"], keep_default_na=False)
    cells = []
    for kind in [k for k in KINDS if k in set(df["kind"])]:
        c = df[df["kind"] == kind]["verdict"].value_counts()
        fail = len(df[(df["kind"] == kind) & df["verdict"].str.startswith("FAIL")])
        page = f"parity_{kind}.md" if (out / f"parity_{kind}.md").exists() else "parity.md"
        cells.append(f"[{kind}]({page}) {c.get('pass', 0)} / {c.get('known difference', 0)} / {fail}")
    total = df["verdict"].value_counts()
    fails = int(df["verdict"].str.startswith("FAIL").sum())
    return [f"**Parity** ([parity.md](parity.md)): {len(df)} quantities, {total.get('pass', 0)} pass, "
            f"{total.get('known difference', 0)} known difference, {fails} FAIL. Pass / known / fail per kind: "
            + "; ".join(cells) + "."]


def mnist_lines(out: Path) -> list[str]:
    """Per recipe: the worst step-loss difference of each framework from its same-form scratch run
    and the test-accuracy differences, linked to the summary."""
    if not (out / "mnist" / "README.md").exists():
        return []
    from comparisons.studies.mnist import summary

    records, shorts = summary.runs_on_disk(out / "mnist")
    acc = summary.accuracy_table(records, shorts)
    agree = summary.agreement_table(records, shorts)
    cells = []
    for (_, a), (_, g) in zip(acc.iterrows(), agree.iterrows(), strict=True):
        name = a["run"].split("]")[0].lstrip("[")
        parts = []
        for fw in ("Keras", "PyTorch"):
            col = f"{fw} step loss vs same-form scratch, whole run"
            if col in g and isinstance(g[col], str):
                parts.append(f"{fw} {g[col]}, {a[f'{fw} - scratch (points)']} points")
        cells.append(f"{name}: " + "; ".join(parts))
    return ["**MNIST lock-step** ([mnist/README.md](mnist/README.md)): worst relative step-loss difference from "
            "the same-form scratch run over the run, and test accuracy against the textbook scratch run. "
            + " | ".join(cells) + "."]


def bench_lines(out: Path) -> list[str]:
    """Training epoch time of scratch relative to the fastest framework of the same run per model
    (float32); relative to PyTorch for a CSV written before that column existed."""
    csv = out / "benchmarks.csv"
    if not csv.exists():
        return []
    df = pd.read_csv(csv)
    rows = df[(df["impl"] == "scratch") & (df["dtype"] == "float32")]
    if rows.empty or "epoch / torch" not in df:
        return []
    if "epoch / fastest peer" in df:
        labels = {"torch": "PyTorch loop", "keras_fit": "Keras fit", "keras_loop": "Keras loop"}
        cells = [f"{r['model']} {r['epoch / fastest peer']:.2f}x ({labels.get(r['fastest peer'], r['fastest peer'])})"
                 for _, r in rows.iterrows()]
        return ["**Benchmarks** ([benchmarks.md](benchmarks.md)): scratch epoch time / the fastest framework's in "
                "the same run, float32: " + ", ".join(cells) + "."]
    cells = [f"{r['model']} {r['epoch / torch']:.2f}x" for _, r in rows.iterrows()]
    return ["**Benchmarks** ([benchmarks.md](benchmarks.md)): scratch epoch time / PyTorch's, float32: "
            + ", ".join(cells) + "."]


def numgrad_lines(out: Path) -> list[str]:
    """The speed-up of the fast numerical gradient over the textbook's loop."""
    csv = out / "numgrad_speed.csv"
    if not csv.exists():
        return []
    df = pd.read_csv(csv).set_index("method")
    if "fast, central" not in df.index:
        return []
    row = df.loc["fast, central"]
    if "speed-up vs book loop" in df:  # the book's loop on the book's TwoLayerNet, and scratch.gradcheck's
        return [f"**Numerical gradient** ([numgrad_speed.md](numgrad_speed.md)): the fast central difference is "
                f"{row['speed-up vs book loop']:.0f}x the book's own loop per TwoLayerNet gradient "
                f"({df.loc['fast, central (Sequential)', 'speed-up vs gradcheck loop']:.0f}x scratch.gradcheck's)."]
    return [f"**Numerical gradient** ([numgrad_speed.md](numgrad_speed.md)): the fast central difference is "
            f"{row['speed-up vs textbook loop']:.0f}x the textbook's loop per TwoLayerNet gradient."]


def lines(out: Path) -> list[str]:
    """Every dashboard line whose source is on disk (Markdown)."""
    out = Path(out)
    return [*parity_lines(out), *mnist_lines(out), *bench_lines(out), *numgrad_lines(out)]
