"""PNG figures (matplotlib, no display needed).

matplotlib is optional (`pip install 'vqdna[plots]'`): without it, the figures a command draws on
its own (training curves, the benchmark chart) are left out with one note on stderr, and a figure
asked for by an option (`eval-tokenizer --plot`) is an error that says what to install."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from vqdna.errors import UserError
from vqdna.storage import atomic_path

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

INSTALL = "pip install 'vqdna[plots]'"
_noted = False


def require(option: str) -> None:
    """Refuse an option that asks for a figure when matplotlib is not installed."""
    if plt is None:
        raise UserError(f"{option}: drawing a figure needs matplotlib: {INSTALL}")


def _optional(draw):
    """A figure function that, without matplotlib, draws nothing and says so once."""

    @functools.wraps(draw)
    def wrapper(path, *args, **kwargs):
        global _noted
        if plt is None:
            if not _noted:
                print(
                    f"note: matplotlib is not installed, so {path} and other figures are not drawn ({INSTALL})",
                    file=sys.stderr,
                )
                _noted = True
            return
        draw(path, *args, **kwargs)

    return wrapper


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


@_optional
def line_plot(
    path, x: Sequence[float], panels: list[tuple[str, dict[str, Sequence[float]]]], *, title: str, xlabel: str
) -> None:
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


@_optional
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
        name = (
            "level"
            if len(counts_per_level) == 1
            else ("coarse level" if n == 0 else f"level {n}" if n < len(counts_per_level) - 1 else "fine level")
        )
        ax.set_title(f"{name}: {len(c)} codes, {used:.1%} used")
    fig.suptitle(title)
    _save(fig, path)


def _bars(
    ax, groups: Sequence[str], series: dict[str, tuple[Sequence[float], Sequence[float]]], ylabel: str, title: str
) -> None:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for n, (name, (means, stds)) in enumerate(series.items()):
        ax.bar(x + (n - (len(series) - 1) / 2) * width, means, width, yerr=stds, capsize=3, label=name)
    ax.set_xticks(x, groups, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize=8)
    ax.set_title(title)


@_optional
def grouped_bar_plot(
    path, groups: Sequence[str], series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str, ylabel: str
) -> None:
    """One group of bars per entry of `groups`, one bar per series {name: (means, stds)}, with
    error bars (NaN means are left out)."""
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(groups) * max(1, len(series)) / 2), 3.8))
    _bars(ax, groups, series, ylabel, title)
    _save(fig, path)


@_optional
def benchmark_plot(
    path,
    tasks: Sequence[str],
    scores: dict[str, tuple[Sequence[float], Sequence[float]]],
    gains: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    ylabel: str,
) -> None:
    """Left: every model's test score per task (baselines included); right, when there are scratch
    twins: each tokenizer's pretraining gain (pretrained − scratch) per task."""
    panels = 2 if gains else 1
    width = max(5.0, 0.45 * len(tasks) * max(1, len(scores)))
    fig, axes = plt.subplots(
        1,
        panels,
        figsize=(width + (max(4.0, 0.5 * len(tasks) * max(1, len(gains)) + 2) if gains else 0), 4.2),
        squeeze=False,
        gridspec_kw={"width_ratios": [width, max(4.0, 0.5 * len(tasks) * max(1, len(gains)))] if gains else [1]},
    )
    _bars(axes[0][0], tasks, scores, ylabel, "Test score (mean ± std over seeds)")
    if gains:
        _bars(axes[0][1], tasks, gains, ylabel.replace("test ", "gain in "), "Pretraining gain: pretrained − scratch")
    _save(fig, path)


@_optional
def code_diff_plot(
    path,
    position: np.ndarray,
    differ: np.ndarray,
    level_names: Sequence[str],
    mutations: Sequence[int],
    focus: int | None,
    *,
    zoom_bp: int,
    title: str,
) -> None:
    """Where two sequences' codes differ (one track per level) along the whole sequence, and
    zoomed on one mutation."""
    levels = len(level_names)
    fig, axes = plt.subplots(2, 1, figsize=(11, 1.2 + 1.1 * levels * 2), squeeze=False)
    for row, (ax, window) in enumerate(zip(axes[:, 0], [None, focus])):
        if row == 1 and focus is None:
            ax.set_visible(False)
            continue
        keep = (
            np.ones(len(position), bool)
            if window is None
            else (position >= window - zoom_bp) & (position <= window + zoom_bp)
        )
        for n in range(levels):
            x = position[keep][differ[n][keep]]
            ax.scatter(
                x, np.full(len(x), levels - 1 - n), marker="|", s=120 if window is not None else 60, color=f"C{n}"
            )
        for m in mutations:
            if window is None or abs(m - window) <= zoom_bp:
                ax.axvline(m, color="0.6", lw=0.6, zorder=0)
        ax.set_yticks(range(levels), list(reversed(level_names)))
        ax.set_ylim(-0.6, levels - 0.4)
        ax.set_xlabel(
            "position in the first sequence (bp)"
            + ("" if window is None else f" — zoom on the mutation at {window + 1:,}")
        )
        if window is not None:
            ax.set_xlim(window - zoom_bp, window + zoom_bp)
    axes[0, 0].set_title(title)
    fig.tight_layout()
    _save(fig, path)


@_optional
def pca_scatter_grid(path, panels: dict[str, np.ndarray], labels: Sequence[str], *, title: str) -> None:
    """One panel per {name: (n, d) embeddings}: the first two principal components, coloured by label."""
    names = list(panels)
    cols = min(len(names), 4)
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False)
    labels = np.asarray(labels)
    classes = list(dict.fromkeys(labels.tolist()))
    # the default cycle repeats after 10 colours; tab20 tells up to 20 classes apart
    colors = plt.get_cmap("tab20").colors if len(classes) > 10 else [f"C{k}" for k in range(10)]
    for ax, name in zip(axes.flat, names):
        x = panels[name] - panels[name].mean(0)
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        xy = x @ vt[:2].T
        explained = (s[:2] ** 2).sum() / max((s**2).sum(), 1e-12)
        for k, c in enumerate(classes):
            sel = labels == c
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, alpha=0.6, color=colors[k % len(colors)], label=c)
        ax.set_title(f"{name} (PC1+2: {explained:.0%} of variance)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, markerscale=2)
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
