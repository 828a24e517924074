"""The three report renderings show what a student needs and nothing a student can inject."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from graders.context import CellReport, GradingContext
from graders.execution import executes
from runner.i18n.render import render
from runner.measurements import Layer, LayerKind
from runner.report.console import print_summary
from runner.report.html import render_html
from runner.report.markdown import render_markdown
from runner.report.model import (
    REPORT_SCHEMA_VERSION,
    CellOutcome,
    CheckOutcome,
    Execution,
    Mode,
    ModelSummary,
    Report,
    SandboxInfo,
    Status,
    WrittenAnswer,
)
from runner.report.plots import make_plots
from runner.report.write import write_report

HOSTILE = "<script>alert(1)</script>"
CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SANDBOX = SandboxInfo(backend="bubblewrap", isolated=True, network=False,
                      limits={"memory_mb": 4096, "cpu_seconds": 900})


def _cnn(index: int, label: str, channels: list[int], kernels: list[int], accuracy: float,
         params: int) -> ModelSummary:
    layers: list[Layer] = []
    for i, (c, k) in enumerate(zip(channels, kernels, strict=True)):
        layers += [Layer(kind=LayerKind.conv, type="Conv2d", name=f"conv{i}", channels=c,
                         kernel_size=[k, k], params=c * k * k),
                   Layer(kind=LayerKind.pool, type="MaxPool2d", name=f"pool{i}")]
    layers.append(Layer(kind=LayerKind.dense, type="Linear", name="fc", channels=10))
    return ModelSummary(index=index, label=label, framework="torch", kind="cnn", params=params,
                        conv_channels=channels, conv_kernels=kernels,
                        conv_pool_blocks=len(channels), accuracy=accuracy,
                        input_format="[1, 28, 28], x/255", layers=layers)


def cnn_report() -> Report:
    mlp = ModelSummary(
        index=3, label="mlp", framework="torch", kind="mlp", params=235_146, accuracy=0.861,
        input_format="[784], x/255",
        layers=[Layer(kind=LayerKind.dense, type="Linear", name="<img src=x onerror=alert(2)>",
                      channels=300)])
    checks = [
        CheckOutcome(id="cnn.base_architecture", title="Base CNN architecture", points=3,
                     max_points=3, passed=True,
                     message="Found a CNN with conv channels 16, 32 and kernels 5, 3."),
        CheckOutcome(id="cnn.base_accuracy", title="Base CNN accuracy", points=2, max_points=2,
                     passed=True, message="Base CNN reaches 88.5% (needs 85%)."),
        CheckOutcome(id="cnn.wider", title="Wider CNN", points=0, max_points=2, passed=False,
                     message="No CNN has more channels than the base at the same depth | sorry."),
        CheckOutcome(id="cnn.deeper", title="Deeper CNN", points=2, max_points=2, passed=True,
                     message="Found a CNN with 3 conv-pool blocks."),
        CheckOutcome(id="cnn.mlp_compare", title="MLP comparison", points=0.5, max_points=1,
                     passed=False, message="The MLP was trained for only 1 epoch.",
                     public=False),
    ]
    return Report(
        assignment="fashion_mnist_cnn", assignment_title="Fashion-MNIST: CNN width and depth",
        notebook="hw3 <final>.ipynb", submission_sha256="ab12" * 16, grader_version="0.1.0",
        mode=Mode.check, status=Status.partial, score=7.5, max_score=10,
        evaluation_set="public held-out split: 2,000 Fashion-MNIST test images",
        checks=checks,
        models=[_cnn(0, "model", [16, 32], [5, 3], 0.885, 206_922),
                _cnn(1, "wide_model", [32, 64], [5, 3], 0.897, 421_642),
                _cnn(2, "deep_model", [16, 32, 64], [5, 3, 3], 0.893, 98_442), mlp],
        execution=Execution(
            seconds=184.2,
            # Notebook indices: markdown cells 0, 2 and 5 lie between the code cells.
            cells=[CellOutcome(index=1, status="ok", seconds=0.1),
                   CellOutcome(index=3, status="ok", seconds=120.4),
                   CellOutcome(index=4, status="error", seconds=0.3,
                               error=f"Traceback (most recent call last):\n"
                                     f"\x1b[31mValueError\x1b[0m: {HOSTILE}"),
                   CellOutcome(index=6, status="skipped")],
            neutralised=["!pip install torch torchvision",
                         "drive.mount('/content/drive')"]),
        sandbox=SANDBOX, notes=["Accuracy thresholds are on the public split."],
        created=CREATED)


def autograd_report() -> Report:
    return Report(
        assignment="autograd_basics", assignment_title="Autograd from scratch",
        notebook="autograd.ipynb", submission_sha256="cd34" * 16, grader_version="0.1.0",
        mode=Mode.grade, status=Status.graded, score=10, max_score=10,
        evaluation_set="grader's own arguments to the notebook functions",
        checks=[CheckOutcome(id="grad.sigmoid", title="Sigmoid gradient", points=5,
                             max_points=5, passed=True, message="Matches torch.autograd."),
                CheckOutcome(id="grad.no_autograd", title="No autograd used", points=5,
                             max_points=5, passed=True,
                             message="No backward pass ran inside your functions.")],
        execution=Execution(seconds=3.5, cells=[CellOutcome(index=0, status="ok")]),
        sandbox=SANDBOX, created=CREATED)


@pytest.fixture(scope="module")
def cnn_html() -> str:
    return render_html(cnn_report())


def _row(markdown: str, needle: str) -> str:
    return next(line for line in markdown.splitlines() if needle in line)


def test_markdown_shows_score_status_and_every_check() -> None:
    report = cnn_report()
    text = render_markdown(report)
    assert text.startswith("# Grading report: Fashion-MNIST")
    assert "**Score: 7.5 / 10**" in text
    assert "partial" in text
    assert "2,000 Fashion-MNIST test images" in text
    assert "bubblewrap, isolated, no network" in text
    for check in report.checks:
        row = _row(text, f"({check.id})")
        assert row.startswith("| ✓ |" if check.passed else "| ✗ |")
    assert "Found a CNN with 3 conv-pool blocks." in text
    assert r"same depth \| sorry." in text  # a pipe in a message must not split the row
    assert len(re.findall(r"(?<!\\)\|", _row(text, "No CNN has"))) == 5  # four cells
    assert "0.5 / 1" in text
    assert text == render_markdown(report)


def test_markdown_models_and_execution() -> None:
    text = render_markdown(cnn_report())
    deep = _row(text, "deep_model")
    for cell in ("16, 32, 64", "5, 3, 3", "| 3 |", "98,442", "89.3%", "torch", "cnn"):
        assert cell in deep
    assert "86.1%" in _row(text, "| mlp |")
    assert "184.2 s" in text
    assert "- Code cell 3: error" in text
    assert "ValueError:" in text and "\x1b" not in text  # ANSI colours are stripped
    assert "- `!pip install torch torchvision`" in text
    assert "hw3 \\<final\\>.ipynb" in text


def test_every_text_names_a_failed_cell_by_its_number_among_the_code_cells() -> None:
    """The failing cell is the notebook's fifth cell but its third code cell, the one the
    executed notebook shows as [3]: the check's message and all three renderings say so."""
    report = cnn_report()
    cells = [CellReport(c.index, c.status, c.error) for c in report.execution.cells]
    verdict = executes(None, GradingContext(mode="check", cells=cells))
    assert render(verdict.message, "en").startswith("code cell 3 raised an error: Traceback")
    assert "- Code cell 3: error (0.3 s)" in render_markdown(report)
    page = render_html(report)
    assert "<h3>Code cell 3: error (0.3 s)</h3>" in page
    console = Console(width=120, record=True, color_system=None, file=io.StringIO())
    print_summary(report, console)
    assert "1 failed: code cell 3" in console.export_text()
    for text in (render_markdown(report), page, console.export_text()):
        assert not re.search(r"[Cc]ell (5|4)\b", text)


def test_markdown_without_models_has_no_models_section() -> None:
    text = render_markdown(autograd_report())
    assert "**Score: 10 / 10**" in text
    assert "Measured models" not in text
    assert text.count("| ✓ |") == 2


def test_html_is_self_contained(cnn_html: str) -> None:
    lowered = cnn_html.lower()
    assert lowered.startswith("<!doctype html>")
    for forbidden in ("<script", "<link", 'src="http', "src='http", "url(http", "@import"):
        assert forbidden not in lowered
    assert lowered.count("<svg") == 3
    assert "Content-Security-Policy" in cnn_html


def test_html_escapes_student_strings(cnn_html: str) -> None:
    assert HOSTILE not in cnn_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cnn_html
    assert "<img" not in cnn_html
    assert "&lt;img src=x onerror=alert(2)&gt;" in cnn_html
    assert "hw3 &lt;final&gt;.ipynb" in cnn_html


def test_html_content_matches_markdown(cnn_html: str) -> None:
    report = cnn_report()
    assert "7.5 / 10" in cnn_html
    for check in report.checks:
        assert check.id in cnn_html
    assert cnn_html.count('<tr class="pass">') == 3
    assert cnn_html.count('<tr class="fail">') == 2
    for accuracy in ("88.5%", "89.7%", "89.3%", "86.1%"):
        assert accuracy in cnn_html
    assert "<details" in cnn_html and "!pip install torch torchvision" in cnn_html
    ids = re.findall(r'\sid="([^"]+)"', cnn_html)
    assert len(ids) == len(set(ids)), "inline SVGs must not share element ids"
    assert cnn_html == render_html(report)


def test_html_without_models_has_no_plots() -> None:
    page = render_html(autograd_report())
    assert "<svg" not in page and "base64" not in page
    assert "Measured models" not in page
    assert "10 / 10" in page


def test_plots_are_deterministic_and_titled() -> None:
    models = cnn_report().models
    first, second = make_plots(models), make_plots(models)
    assert [p.key for p in first] == ["width", "depth", "models"]
    assert [p.svg for p in first] == [p.svg for p in second]
    width = first[0].svg
    assert width.startswith("<svg") and "<?xml" not in width
    for text in ("Accuracy vs width", "Total conv channels", "Accuracy (%)", "[16/32/64]",
                 "89.7%"):
        assert text in width


def test_plots_skip_what_has_no_data() -> None:
    models = cnn_report().models
    assert make_plots([]) == []
    assert make_plots([models[0]]) == []  # one model: nothing to compare
    assert [p.key for p in make_plots([models[0], models[3]])] == ["models"]
    same_depth = make_plots(models[:2])
    assert [p.key for p in same_depth] == ["width", "models"]


def test_plot_labels_are_escaped_and_not_mathtext() -> None:
    models = cnn_report().models
    odd = models[3].model_copy(update={"label": "$\\frac{1$ <b>"})
    svg = make_plots([models[0], odd])[0].svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_console_summary() -> None:
    report = cnn_report()
    report.checks[2].message = "[bold]not markup[/bold] [/oops]"
    console = Console(width=100, record=True, color_system=None, file=io.StringIO())
    print_summary(report, console)
    text = console.export_text()
    assert "7.5 / 10" in text and "partial" in text
    for check in report.checks:
        assert check.id in text
    assert "[bold]not markup[/bold] [/oops]" in text
    assert "✓" in text and "✗" in text
    assert "wide_model" in text and "89.7%" in text
    again = Console(width=100, record=True, color_system=None, file=io.StringIO())
    print_summary(report, again)
    assert again.export_text() == text


def test_write_report_round_trips(tmp_path: Path) -> None:
    report = cnn_report()
    paths = write_report(report, tmp_path / "out")
    assert {p.name for p in paths.values()} == {"report.json", "report.md", "report.html"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "report.html", "report.json", "report.md"]  # no temporary files left behind
    assert Report.model_validate_json(paths["json"].read_text()) == report
    assert json.loads(paths["json"].read_text())["score"] == 7.5
    assert paths["markdown"].read_text(encoding="utf-8") == render_markdown(report)
    assert paths["html"].read_text(encoding="utf-8").count("<svg") == 3
    write_report(autograd_report(), tmp_path / "out")  # overwrites in place
    assert "Autograd" in paths["markdown"].read_text(encoding="utf-8")


def forecast_report() -> Report:
    from runner.report.model import ForecastSeries

    actual = [360.0 + 10 * (i % 12) for i in range(24)]
    lstm = ModelSummary(
        index=0, label="model", framework="keras", kind="rnn", params=4_385,
        metrics={"rmse": 28.22, "mae": 25.28, "mape": 5.46},
        forecast=[v + 5 for v in actual],
        input_format="12x1, x*0.06225-1.759 (scaler scaler), window 12, closed loop",
        layers=[Layer(kind=LayerKind.recurrent, type="LSTM", channels=32),
                Layer(kind=LayerKind.dense, type="Dense", channels=1)])
    return Report(
        assignment="lstm_airline_passengers", assignment_title="LSTM on airline passengers",
        notebook="lstm.ipynb", submission_sha256="ef56" * 16, grader_version="0.1.0",
        mode=Mode.grade, status=Status.graded, score=10, max_score=10, task="forecasting",
        evaluation_set="hidden 24 values (1959-01 to 1960-12)",
        checks=[CheckOutcome(id="forecast_error", title="Forecast error", points=5,
                             max_points=5, passed=True, message="#0 model: RMSE 28.22")],
        models=[lstm],
        baselines={"seasonal_naive": {"rmse": 76.99}, "naive": {"rmse": 137.33}},
        series=ForecastSeries(history=[300.0] * 48, actual=actual,
                              baselines={"seasonal_naive": actual[:12] * 2}),
        execution=Execution(seconds=30.0, cells=[CellOutcome(index=0, status="ok")]),
        sandbox=SANDBOX, created=CREATED)


def test_a_forecasting_report_shows_its_metric_baselines_and_forecast_plot():
    report = forecast_report()
    markdown = render_markdown(report)
    assert "| # | Model | Framework | Kind | Conv channels | Kernels | Blocks | Params | RMSE |" \
        in markdown
    assert "| 28.22 |" in markdown
    assert ("- Without a model: seasonal naive forecast: RMSE 76.99; naive forecast: RMSE "
            "137.33") in markdown
    html = render_html(report)
    assert 'id="plot-forecast"' in html and "Closed-loop forecasts" in html
    assert "<dt>Without a model</dt>" in html
    console = Console(file=io.StringIO(), width=120, color_system=None)
    print_summary(report, console)
    text = console.file.getvalue()
    assert "Measured on: hidden 24 values" in text and "RMSE" in text
    # The schema round-trips through JSON with the forecast and the baselines.
    again = Report.model_validate_json(report.model_dump_json())
    assert again.models[0].forecast == report.models[0].forecast
    assert again.schema_version == REPORT_SCHEMA_VERSION and again.series is not None


def _with_answers() -> Report:
    report = cnn_report()
    report.answers = [
        WrittenAnswer(item="result", title="Result", points=3, found_by="heading",
                      text=f"RMSE 25 {HOSTILE}\n```\n# not a heading", sha256="a" * 64),
        WrittenAnswer(item="vanishing", title="Vanishing gradient", points=2,
                      sha256="b" * 64)]
    return report


def test_every_format_shows_the_written_answers_found_and_those_missing() -> None:
    """A student sees in `nngrade check` what the instructor will read, or that nothing was
    found; the text stays text in every format."""
    report = _with_answers()
    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    print_summary(report, console)
    text = console.export_text()
    assert "written answer: Result: «RMSE 25" in text
    assert "Vanishing gradient: no answer was found" in text
    html = render_html(report)
    assert "<h2>Written answers</h2>" in html and HOSTILE not in html
    assert "RMSE 25 &lt;script&gt;" in html
    markdown = render_markdown(report)
    assert "## Written answers" in markdown and "````text\nRMSE 25" in markdown
    assert "\n# not a heading" in markdown.split("````text")[1].split("````")[0]
