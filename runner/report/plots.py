"""Plots drawn from the grader's own measurements, as inline SVG.

The assignment asks students to compare CNN widths and depths with an MLP;
these plots show the same comparison from accuracies the grader measured, so
a student can set them beside their own. Figures are built on a bare
``matplotlib.figure.Figure`` (no pyplot), so no global backend is chosen or
changed and nothing leaks between reports; the SVG writer is pinned to
produce the same bytes for the same report. Titles, axes and legends come from the
``report.plot.*`` messages, in the report's language, numbers written its way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.numbers import get_decimal_symbol

from runner.baselines import short_name
from runner.i18n.render import Translator, number
from runner.report.markdown import ENGLISH, words
from runner.report.model import ForecastSeries, ModelSummary

CNN_COLOR = "#2b6cb0"
MLP_COLOR = "#dd6b20"
OTHER_COLOR = "#718096"
GROUP_COLORS = ["#2b6cb0", "#2f855a", "#805ad5", "#c53030", "#b7791f", "#2c7a7b"]
LABEL_CHARS = 20


@dataclass(frozen=True)
class Plot:
    """One figure: ``svg`` is a bare ``<svg>`` element ready to inline in HTML."""

    key: str
    title: str
    caption: str
    svg: str


def _plain(text: str) -> str:
    """A student-chosen label, shortened and kept out of matplotlib's mathtext parser."""
    text = " ".join(text.split())
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "…"
    return text.replace("$", r"\$")


def _measured(models: Sequence[ModelSummary]) -> list[ModelSummary]:
    return [m for m in models if m.accuracy is not None and not m.error]


def _cnns(models: Sequence[ModelSummary]) -> list[ModelSummary]:
    return [m for m in _measured(models) if m.kind == "cnn" and m.conv_channels]


def _best_mlp(models: Sequence[ModelSummary]) -> ModelSummary | None:
    mlps = [m for m in _measured(models) if m.kind == "mlp"]
    return max(mlps, key=lambda m: m.accuracy or 0.0) if mlps else None


def _pct(model: ModelSummary) -> float:
    return 100.0 * (model.accuracy or 0.0)


def _to_svg(draw: Callable[..., None], key: str, *args: object) -> str:
    """Draw on a fresh figure and serialise it reproducibly, without the XML prolog."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    style = {"svg.hashsalt": "nngrade", "svg.fonttype": "none", "font.size": 9,
             "axes.spines.top": False, "axes.spines.right": False}
    with rc_context(style):
        fig = Figure(figsize=(6.4, 3.8), layout="constrained")
        draw(fig.add_subplot(), *args)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return _scope_ids(text[text.index("<svg"):].strip(), key)


_TAG = re.compile(r"<[^<>]+>")
_ID_REF = re.compile(r'(\sid="|url\(#|href="#)')


def _scope_ids(svg: str, key: str) -> str:
    """Prefix every id and reference, so several SVGs can share one HTML page.

    Only markup is touched: matplotlib escapes ``<``, ``>`` and quotes in text and
    attributes, so a student's label can never look like a tag here.
    """
    return _TAG.sub(lambda tag: _ID_REF.sub(rf"\g<1>{key}-", tag.group()), svg)


def _pct_text(model: ModelSummary, t: Translator) -> str:
    return t.number(model.accuracy or 0.0, ".1%")


def _annotate(ax, x: float, model: ModelSummary, t: Translator, detail: str = "") -> None:
    text = f"{_plain(model.label)}{detail}\n{_pct_text(model, t)}"
    ax.annotate(text, (x, _pct(model)), xytext=(0, 7), textcoords="offset points",
                ha="center", va="bottom", fontsize=8)


def _mlp_line(ax, mlp: ModelSummary | None, t: Translator) -> None:
    if mlp is not None:
        ax.axhline(_pct(mlp), color=MLP_COLOR, linestyle="--", linewidth=1,
                   label=t("report.plot.mlp", accuracy=mlp.accuracy or 0.0,
                           model=_plain(mlp.label)))


def _local_ticks(ax, t: Translator, x: bool = True) -> None:
    """Tick labels with the language's decimal sign where it is not a point (``x``: the
    x axis too, unless its ticks are labels already)."""
    if get_decimal_symbol(t.language) == ".":
        return  # matplotlib's own labels, as they always were
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _pos: number(value, "g", t.language))
    for axis in (ax.xaxis, ax.yaxis) if x else (ax.yaxis,):
        axis.set_major_formatter(formatter)


def _pad_y(ax, values: list[float], t: Translator) -> None:
    low, high = min(values), max(values)
    margin = max(1.0, (high - low) * 0.35)
    ax.set_ylim(low - margin, high + 1.6 * margin)  # headroom for two-line annotations
    ax.set_ylabel(t("report.plot.accuracy_axis"))
    ax.grid(axis="y", alpha=0.3)


def _draw_width(ax, t: Translator, cnns: list[ModelSummary], mlp: ModelSummary | None) -> None:
    depths = sorted({len(m.conv_channels) for m in cnns})
    for i, depth in enumerate(depths):
        group = sorted((m for m in cnns if len(m.conv_channels) == depth),
                       key=lambda m: (sum(m.conv_channels), m.index))
        xs = [sum(m.conv_channels) for m in group]
        ax.plot(xs, [_pct(m) for m in group], marker="o", color=GROUP_COLORS[i % 6],
                label=t("report.plot.width.legend", n=depth))
        for x, m in zip(xs, group, strict=True):
            _annotate(ax, x, m, t, f" [{'/'.join(map(str, m.conv_channels))}]")
    _mlp_line(ax, mlp, t)
    values = [_pct(m) for m in cnns] + ([_pct(mlp)] if mlp else [])
    _pad_y(ax, values, t)
    xs = [sum(m.conv_channels) for m in cnns]
    span = max(xs) - min(xs) or max(xs) or 1
    ax.set_xlim(min(xs) - 0.2 * span, max(xs) + 0.2 * span)
    ax.set_xlabel(t("report.plot.width.xlabel"))
    ax.set_title(t("report.plot.width.axes_title"))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _local_ticks(ax, t)


def _draw_depth(ax, t: Translator, cnns: list[ModelSummary], mlp: ModelSummary | None) -> None:
    from matplotlib.ticker import MaxNLocator

    blocks = sorted({m.conv_pool_blocks for m in cnns})
    best = [max(_pct(m) for m in cnns if m.conv_pool_blocks == b) for b in blocks]
    ax.plot(blocks, best, color=CNN_COLOR, alpha=0.4, label=t("report.plot.depth.best"))
    ax.scatter([m.conv_pool_blocks for m in cnns], [_pct(m) for m in cnns], color=CNN_COLOR,
               zorder=3, label=t("report.plot.depth.cnn"))
    for m in cnns:
        _annotate(ax, m.conv_pool_blocks, m, t)
    _mlp_line(ax, mlp, t)
    _pad_y(ax, [_pct(m) for m in cnns] + ([_pct(mlp)] if mlp else []), t)
    ax.set_xlim(blocks[0] - 0.6, blocks[-1] + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("report.plot.depth.xlabel"))
    ax.set_title(t("report.plot.depth.title"))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _local_ticks(ax, t)


def _draw_bars(ax, t: Translator, models: list[ModelSummary]) -> None:
    colors = {"cnn": CNN_COLOR, "mlp": MLP_COLOR}
    values = [_pct(m) for m in models]
    positions = list(range(len(models)))
    bars = ax.bar(positions, values, color=[colors.get(m.kind, OTHER_COLOR) for m in models])
    ax.bar_label(bars, labels=[_pct_text(m, t) for m in models], padding=2, fontsize=8)
    ax.set_xticks(positions, [f"{_plain(m.label)}\n({m.kind})" for m in models])
    # Accuracies of homework models sit close together; a zero baseline would hide the gaps.
    bottom = max(0.0, (min(values) - 5.0) // 5 * 5)
    ax.set_ylim(bottom, min(100.0, max(values) + 3.0))
    ax.set_ylabel(t("report.plot.accuracy_axis") if bottom == 0
                  else t("report.plot.accuracy_axis_from", bottom=bottom))
    ax.grid(axis="y", alpha=0.3)
    kinds = {m.kind for m in models}
    ax.set_title(t("report.plot.models.cnn_vs_mlp") if {"cnn", "mlp"} <= kinds
                 else t("report.plot.models.title"))
    _local_ticks(ax, t, x=False)


def _draw_forecasts(ax, t: Translator, series: ForecastSeries,
                    models: list[ModelSummary]) -> None:
    past = len(series.history)
    ax.plot(range(past), series.history, color="#1a202c", label=t("report.plot.forecast.history"))
    future = list(range(past, past + len(series.actual)))
    ax.plot(future, series.actual, color="#1a202c", linestyle=":", marker=".",
            label=t("report.plot.forecast.actual"))
    for name, values in series.baselines.items():
        label = words(short_name(name), t.language)  # nngrade's words, not a student's
        ax.plot(future, values, color=OTHER_COLOR, linestyle="--", linewidth=1, label=label)
    for color, model in zip(GROUP_COLORS, models, strict=False):
        ax.plot(future, model.forecast, color=color, linewidth=1.5, label=_plain(model.label))
    ax.axvline(past - 0.5, color=OTHER_COLOR, linewidth=0.5)
    ax.set_xlabel(t("report.plot.forecast.xlabel", past=past))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(t("report.plot.forecast.title"))
    _local_ticks(ax, t)


def make_plots(models: Sequence[ModelSummary], series: ForecastSeries | None = None,
               language: str = ENGLISH) -> list[Plot]:
    """Every plot the measurements support, in ``language``; a plot without at least two
    points is skipped."""
    t = Translator(language)
    plots: list[Plot] = []
    forecasters = [m for m in models if m.forecast is not None and not m.error]
    if series is not None and forecasters:
        plots.append(Plot("forecast", t("report.plot.forecast.title"),
                          t("report.plot.forecast.caption"),
                          _to_svg(_draw_forecasts, "forecast", t, series,
                                  forecasters[:len(GROUP_COLORS)])))
    cnns, mlp, measured = _cnns(models), _best_mlp(models), _measured(models)
    if len(cnns) >= 2:
        plots.append(Plot("width", t("report.plot.width.title"), t("report.plot.width.caption"),
                          _to_svg(_draw_width, "width", t, cnns, mlp)))
    if len({m.conv_pool_blocks for m in cnns}) >= 2:
        plots.append(Plot("depth", t("report.plot.depth.title"), t("report.plot.depth.caption"),
                          _to_svg(_draw_depth, "depth", t, cnns, mlp)))
    if len(measured) >= 2:
        plots.append(Plot("models", t("report.plot.models.title"),
                          t("report.plot.models.caption"),
                          _to_svg(_draw_bars, "models", t, measured)))
    return plots
