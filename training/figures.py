"""Figures logged with a training run: the confusion matrix on the held-out split.

Drawn on a bare `Figure` with the Agg canvas, not through pyplot: no global backend is switched
and nothing needs a display, so it runs the same in a Ray task, a CI job and a notebook.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .evaluate import Evaluation


def confusion_figure(evaluation: Evaluation, *, title: str = "Held-out confusion matrix") -> Figure:
    labels = evaluation.matrix_labels
    matrix = evaluation.confusion
    size = 2.5 + 0.8 * len(labels)
    figure = Figure(figsize=(size + 1.5, size), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(labels))
    axes.set_xticks(ticks, labels=labels, rotation=45, ha="right")
    axes.set_yticks(ticks, labels=labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{title} (n={evaluation.examples})")
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            # Dark cells get white figures so every count stays readable.
            colour = "white" if peak and count > peak / 2 else "black"
            axes.text(j, i, str(count), ha="center", va="center", color=colour)
    figure.tight_layout()
    return figure
