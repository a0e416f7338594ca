"""PNG figures (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vqdna.storage import atomic_path  # noqa: E402


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def line_plot(path, x: Sequence[float], panels: list[tuple[str, dict[str, Sequence[float]]]], *, title: str, xlabel: str) -> None:
    """One panel per (ylabel, {series name: values}), side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], panels):
        for name, y in series.items():
            ax.plot(x, y, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def code_usage_plot(path, counts_per_level: Sequence[np.ndarray], *, title: str) -> None:
    """Per level: how often each code is used, codes sorted from most to least used (log scale),
    with the fraction of the codebook that is used at all."""
    fig, axes = plt.subplots(1, len(counts_per_level), figsize=(5 * len(counts_per_level), 3.6), squeeze=False)
    for n, (ax, counts) in enumerate(zip(axes[0], counts_per_level)):
        c = np.sort(np.asarray(counts, dtype=float))[::-1]
        used = np.count_nonzero(c) / len(c)
        ax.bar(np.arange(len(c)), np.maximum(c, 0.5), width=1.0, color="tab:blue")
        ax.set_yscale("log")
        ax.set_xlabel("code rank")
        ax.set_ylabel("tokens")
        name = "level" if len(counts_per_level) == 1 else ("coarse level" if n == 0 else f"level {n}" if n < len(counts_per_level) - 1 else "fine level")
        ax.set_title(f"{name}: {len(c)} codes, {used:.1%} used")
    fig.suptitle(title)
    _save(fig, path)


def grouped_bar_plot(path, groups: Sequence[str], series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str, ylabel: str) -> None:
    """One group of bars per entry of `groups`, one bar per series {name: (means, stds)}, with
    error bars (NaN means are left out)."""
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(groups) * max(1, len(series)) / 2), 3.8))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for n, (name, (means, stds)) in enumerate(series.items()):
        ax.bar(x + (n - (len(series) - 1) / 2) * width, means, width, yerr=stds, capsize=3, label=name)
    ax.set_xticks(x, groups, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    _save(fig, path)
