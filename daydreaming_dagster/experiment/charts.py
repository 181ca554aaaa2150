"""Pictures of the scores, as PNG bytes: where people would rather look than read.

Pure functions of the parsed-scores table (matplotlib's non-interactive Agg backend, no screen
needed); the results asset writes them to data/06_summary and shows them in the UI.
"""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .statistics import judge_matrix  # noqa: E402

DPI = 110


def _short(label: str, width: int = 28) -> str:
    """Model ids are long; keep the part after the provider and cut the rest."""
    text = label.split("/", 1)[-1]
    return text if len(text) <= width else text[: width - 1] + "…"


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def _templates(scores: pd.DataFrame) -> list[str]:
    return sorted(scores["evaluation_template"].dropna().unique())


def score_distribution(scores: pd.DataFrame) -> bytes:
    """Box plots of every judge score per generation model, one panel per evaluation template."""
    scored = scores.dropna(subset=["score"])
    templates = _templates(scored) or ["(no scores)"]
    figure, axes = plt.subplots(
        1, len(templates), figsize=(5.5 * len(templates), 4.2), squeeze=False, sharey=True
    )
    for axis, template in zip(axes[0], templates, strict=True):
        block = scored[scored["evaluation_template"] == template]
        models = sorted(block["generation_model"].unique())
        data = [block.loc[block["generation_model"] == m, "score"].to_numpy() for m in models]
        if models:
            axis.boxplot(data, showmeans=True)
            rng = np.random.default_rng(0)
            for position, values in enumerate(data, start=1):
                jitter = rng.uniform(-0.12, 0.12, len(values))
                axis.scatter(position + jitter, values, s=10, alpha=0.5, color="tab:blue")
            axis.set_xticks(range(1, len(models) + 1), [_short(m) for m in models], rotation=15)
        axis.set_title(f"Scores by generation model\n({template})")
        axis.set_xlabel("box: quartiles, orange line: median, triangle: mean, dots: scores")
        axis.set_ylim(-0.5, 10.5)
        axis.set_ylabel("judge score (0-10)")
        axis.grid(axis="y", alpha=0.3)
    return _png(figure)


def template_model_heatmap(scores: pd.DataFrame) -> bytes:
    """Mean score for each generation template x generation model, one panel per evaluation
    template; each cell is annotated with its mean and n."""
    scored = scores.dropna(subset=["score"])
    templates = _templates(scored) or ["(no scores)"]
    figure, axes = plt.subplots(
        1, len(templates), figsize=(5.5 * len(templates), 4.6), squeeze=False
    )
    for axis, template in zip(axes[0], templates, strict=True):
        block = scored[scored["evaluation_template"] == template]
        means = block.pivot_table(
            index="generation_template", columns="generation_model", values="score", aggfunc="mean"
        )
        counts = block.pivot_table(
            index="generation_template", columns="generation_model", values="score", aggfunc="count"
        )
        if means.empty:
            axis.set_title(f"Mean score: template x model\n({template})")
            axis.text(0.5, 0.5, "no scores yet", ha="center", va="center")
            axis.set_axis_off()
            continue
        image = axis.imshow(means.to_numpy(dtype=float), vmin=0, vmax=10, cmap="viridis")
        for (row, column), value in np.ndenumerate(means.to_numpy(dtype=float)):
            if not np.isnan(value):
                n = int(counts.iat[row, column])
                colour = "white" if value < 6 else "black"
                axis.text(column, row, f"{value:.1f}\nn={n}", ha="center", va="center",
                          fontsize=8, color=colour)  # fmt: skip
        axis.set_xticks(range(len(means.columns)), [_short(m) for m in means.columns], rotation=15)
        axis.set_yticks(range(len(means.index)), list(means.index))
        axis.set_title(f"Mean score: template x model\n({template})")
        figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="mean score")
    return _png(figure)


def judge_agreement_plot(scores: pd.DataFrame) -> bytes:
    """Each pair of judges' scores of the same generations, with the diagonal of agreement;
    one panel per (evaluation template, pair of judges)."""
    matrix = judge_matrix(scores)
    panels = []
    for template, block in matrix.groupby(level="evaluation_template"):
        judges = sorted(block.columns[block.notna().any()])
        for i, a in enumerate(judges):
            for b in judges[i + 1 :]:
                panels.append((template, a, b, block[[a, b]].dropna()))
    if not panels:
        panels = [("(fewer than two judges)", "", "", pd.DataFrame(columns=["x", "y"]))]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 4.6), squeeze=False)
    for axis, (template, a, b, pair) in zip(axes[0], panels, strict=True):
        if len(pair):
            axis.scatter(pair.iloc[:, 0], pair.iloc[:, 1], s=18, alpha=0.6)
            ranks = pair.rank()
            rho = ranks.iloc[:, 0].corr(ranks.iloc[:, 1]) if len(pair) >= 3 else float("nan")
            axis.set_title(f"{template}\nSpearman rho = {rho:.2f}, n = {len(pair)}")
        else:
            axis.set_title(template)
        axis.plot([0, 10], [0, 10], color="grey", linestyle="--", linewidth=1)
        axis.set_xlim(-0.5, 10.5)
        axis.set_ylim(-0.5, 10.5)
        axis.set_xlabel(_short(a) or "judge")
        axis.set_ylabel(_short(b) or "judge")
        axis.grid(alpha=0.3)
    return _png(figure)


CHARTS = {
    "score_distribution": score_distribution,
    "template_model_heatmap": template_model_heatmap,
    "judge_agreement": judge_agreement_plot,
}
