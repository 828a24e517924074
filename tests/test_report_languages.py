"""The report in Russian and in English: every word from the catalogues, numbers each
language's way, and the English report exactly as it was before there were catalogues."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from runner.i18n.catalogue import read_catalogues
from runner.i18n.message import msg
from runner.i18n.render import render
from runner.measurements import Layer
from runner.report.console import print_summary
from runner.report.html import render_html
from runner.report.markdown import (
    CELL_STATUSES,
    fmt_num,
    fmt_params,
    fmt_points,
    fmt_seconds,
    render_markdown,
    tail,
)
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
)
from runner.report.plots import make_plots

NBSP = "\xa0"  # Babel's Russian thousands separator
HOSTILE = "<script>alert(1)</script>"
RENDERERS = ("markdown.py", "console.py", "html.py", "plots.py")


def _report(language: str, cells: int = 5, seconds: float = 12.5) -> Report:
    """A partial run: two checks (one hidden, half a point), one CNN, a cell error and a
    timeout. The texts a report holds already rendered are Russian in both languages: they
    are shown as they are."""
    outcomes = [CellOutcome(index=0, status="ok", seconds=1.0),
                CellOutcome(index=2, status="ok", seconds=10.0),
                CellOutcome(index=3, status="error", seconds=0.25,
                            error=f"ValueError: плохо {HOSTILE}"),
                CellOutcome(index=5, status="timeout", seconds=1.2),
                CellOutcome(index=6, status="skipped")]
    outcomes += [CellOutcome(index=10 + i, status="skipped") for i in range(cells - 5)]
    return Report(
        language=language, assignment="fashion_mnist_cnn",
        assignment_title="Fashion-MNIST: ширина и глубина CNN", notebook="hw3.ipynb",
        submission_sha256="ab12" * 16, grader_version="0.1.0", mode=Mode.check,
        status=Status.partial, score=7.5, max_score=10,
        evaluation_set="открытая отложенная часть (2 000 изображений)",
        checks=[CheckOutcome(id="cnn.base", title="Базовая CNN", points=7, max_points=7,
                             passed=True, message="Найдена CNN."),
                CheckOutcome(id="cnn.mlp", title="Сравнение с MLP", points=0.5, max_points=3,
                             passed=False, message="MLP обучена 1 эпоху.", public=False)],
        models=[ModelSummary(index=0, label="model", framework="torch", kind="cnn",
                             params=1_234_567, conv_channels=[16, 32], conv_kernels=[5, 3],
                             conv_pool_blocks=2, accuracy=0.9115, input_format="[1, 28, 28]",
                             layers=[Layer(kind="conv", type="Conv2d", name="conv0",
                                           channels=16, kernel_size=[5, 5], params=416)])],
        execution=Execution(seconds=seconds, cells=outcomes[:max(cells, 5)],
                            neutralised=["!pip install torch"],
                            stopped="превышен лимит времени ячейки"),
        sandbox=SandboxInfo(backend="bubblewrap", isolated=True, network=False,
                            limits={"memory_mb": 4096}),
        notes=["Пороги точности — на открытой части."],
        created=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


def _console(report: Report, width: int = 100) -> list[str]:
    """The terminal summary as lines, panel borders and padding taken off."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    print_summary(report, console)
    return [line.strip("│ ").rstrip() for line in console.export_text().splitlines()]


def test_markdown_in_russian() -> None:
    lines = render_markdown(_report("ru")).splitlines()
    assert lines[:9] == [
        "# Отчёт о проверке: Fashion-MNIST: ширина и глубина CNN",
        "",
        "**Оценка: 7,5 / 10** · Статус: **частично** · Режим: самопроверка",
        "",
        "- Задание: fashion_mnist_cnn",
        "- Ноутбук: hw3.ipynb",
        "- Выборка для измерений: открытая отложенная часть (2 000 изображений)",
        "- Песочница: bubblewrap, изолирована, без сети; ограничения: memory_mb=4096",
        "- Проверяющая программа 0.1.0 · sha256 решения ab12ab12ab12 · "
        "2024-05-01T12:00:00+00:00",
    ]
    for line in ("## Проверки", "Пройдено проверок: 1 из 2.",
                 "|  | Проверка | Баллы | Комментарий |",
                 "| ✓ | Базовая CNN (cnn.base) | 7 / 7 | Найдена CNN. |",
                 "| ✗ | Сравнение с MLP (cnn.mlp) · скрытая | 0,5 / 3 | MLP обучена 1 эпоху. |",
                 "## Измеренные модели",
                 "| № | Модель | Фреймворк | Тип | Каналы свёрток | Ядра | Блоки | Параметры | "
                 "Точность | Формат входа |",
                 f"| 0 | model | torch | cnn | 16, 32 | 5, 3 | 2 | 1{NBSP}234{NBSP}567 | 91,1% | "
                 r"\[1, 28, 28\] |",
                 "## Выполнение",
                 "Выполнено 5 ячеек за 12,5 с; сбоев: 2.",
                 "Остановлено досрочно: превышен лимит времени ячейки",
                 "### Ячейки со сбоями",
                 "- Ячейка кода 3: ошибка (0,2 с)",
                 "- Ячейка кода 4: превышено время (1,2 с)",
                 "### Невыполненные строки",
                 "Окружение проверки уже содержит то, что устанавливают эти строки:",
                 "- `!pip install torch`",
                 "## Примечания",
                 "- Пороги точности — на открытой части."):
        assert line in lines, line


def test_markdown_in_english_is_as_before() -> None:
    lines = render_markdown(_report("en")).splitlines()
    assert lines[:9] == [
        "# Grading report: Fashion-MNIST: ширина и глубина CNN",
        "",
        "**Score: 7.5 / 10** · Status: **partial** · Mode: check",
        "",
        "- Assignment: fashion_mnist_cnn",
        "- Notebook: hw3.ipynb",
        "- Measured on: открытая отложенная часть (2 000 изображений)",
        "- Sandbox: bubblewrap, isolated, no network; limits: memory_mb=4096",
        "- Grader 0.1.0 · submission sha256 ab12ab12ab12 · 2024-05-01T12:00:00+00:00",
    ]
    for line in ("## Checks", "1 of 2 passed.", "|  | Check | Points | Message |",
                 "| ✗ | Сравнение с MLP (cnn.mlp) · hidden | 0.5 / 3 | MLP обучена 1 эпоху. |",
                 "## Measured models",
                 "| # | Model | Framework | Kind | Conv channels | Kernels | Blocks | Params | "
                 "Accuracy | Input format |",
                 "| 0 | model | torch | cnn | 16, 32 | 5, 3 | 2 | 1,234,567 | 91.1% | "
                 r"\[1, 28, 28\] |",
                 "## Execution", "Ran 5 cells in 12.5 s; 2 failed.",
                 "Stopped early: превышен лимит времени ячейки",
                 "### Cells that failed", "- Code cell 3: error (0.2 s)",
                 "- Code cell 4: timeout (1.2 s)", "### Lines not run",
                 "The grader's environment already provides what these lines set up:",
                 "## Notes"):
        assert line in lines, line


@pytest.mark.parametrize(("cells", "seconds", "russian", "english"), [
    (5, 12.5, "Выполнено 5 ячеек за 12,5 с; сбоев: 2.", "Ran 5 cells in 12.5 s; 2 failed."),
    (21, 3.0, "Выполнена 21 ячейка за 3,0 с; сбоев: 2.", "Ran 21 cells in 3.0 s; 2 failed."),
    (22, 1234.56, "Выполнены 22 ячейки за 1234,6 с; сбоев: 2.",
     "Ran 22 cells in 1234.6 s; 2 failed."),
    (11, 0.04, "Выполнено 11 ячеек за 0,0 с; сбоев: 2.", "Ran 11 cells in 0.0 s; 2 failed."),
])
def test_the_execution_line_agrees_with_its_count(cells, seconds, russian, english) -> None:
    assert russian in render_markdown(_report("ru", cells, seconds)).splitlines()
    assert english in render_markdown(_report("en", cells, seconds)).splitlines()


def test_console_in_russian() -> None:
    lines = _console(_report("ru"))
    for line in ("Fashion-MNIST: ширина и глубина CNN  hw3.ipynb",
                 "Оценка 7,5 / 10   Статус частично   Режим самопроверка",
                 "Выборка для измерений: открытая отложенная часть (2 000 изображений)",
                 "Песочница: bubblewrap, изолирована, без сети; ограничения: memory_mb=4096",
                 "Выполнено 5 ячеек за 12,5 с, сбоев: 2 — ячейка кода 3, ячейка кода 4",
                 "Остановлено досрочно: превышен лимит времени ячейки",
                 "Проверки",
                 "Измеренные модели",
                 "примечание: Пороги точности — на открытой части."):
        assert line in lines, line
    text = "\n".join(lines)
    assert re.search(r"Проверка\s+Баллы\s+Комментарий", text)
    assert re.search(r"cnn\.mlp\s+0,5 / 3\s+MLP обучена 1 эпоху\.", text)
    assert re.search(r"Модель\s+Тип\s+Каналы свёрток\s+Ядра\s+Блоки\s+Точность", text)
    assert re.search(r"model\s+cnn\s+16, 32\s+5, 3\s+2\s+91,1%", text)


def test_console_in_english_is_as_before() -> None:
    lines = _console(_report("en"), width=120)
    for line in ("Score 7.5 / 10   Status partial   Mode check",
                 "Measured on: открытая отложенная часть (2 000 изображений)",
                 "Sandbox: bubblewrap, isolated, no network; limits: memory_mb=4096",
                 "Ran 5 cells in 12.5 s, 2 failed: code cell 3, code cell 4",
                 "Stopped early: превышен лимит времени ячейки",
                 "Checks", "Measured models",
                 "note: Пороги точности — на открытой части."):
        assert line in lines, line
    text = "\n".join(lines)
    assert re.search(r"Model\s+Framework\s+Kind\s+Conv channels\s+Kernels\s+Blocks\s+Params"
                     r"\s+Accuracy", text)
    assert re.search(r"1,234,567\s+91\.1%", text)


def test_a_run_without_failures_says_so_in_each_language() -> None:
    report = _report("ru").model_copy(update={"execution": Execution(
        seconds=1.0, cells=[CellOutcome(index=0, status="ok")])})
    assert "Выполнена 1 ячейка за 1,0 с, сбоев: 0" in _console(report)
    assert "Выполнена 1 ячейка за 1,0 с; сбоев: 0." in render_markdown(report).splitlines()
    english = report.model_copy(update={"language": "en"})
    assert "Ran 1 cell in 1.0 s, 0 failed" in _console(english)
    assert "Ran 1 cell in 1.0 s; 0 failed." in render_markdown(english).splitlines()


def test_html_in_russian() -> None:
    page = render_html(_report("ru"))
    assert page.startswith('<!DOCTYPE html>\n<html lang="ru">\n<head>\n<meta charset="utf-8">')
    assert re.search(r'font: 15px/1\.5 [^;]*"DejaVu Sans"[^;]*sans-serif;', page)
    for fragment in ('<p class="sub">Отчёт о проверке ноутбука <code>hw3.ipynb</code></p>',
                     '<div class="score">7,5 / 10</div>', '<div class="status">частично</div>',
                     "<dt>Выборка для измерений</dt>", "<h2>Проверки</h2>",
                     "<p>Пройдено проверок: 1 из 2.</p>", '<span class="tag">скрытая</span>',
                     'aria-label="не пройдена"', '<th class="num">Баллы</th>',
                     '<th class="num">Точность</th>', f'<td class="num">1{NBSP}234{NBSP}567</td>',
                     '<td class="num">91,1%</td>', "<summary>Слои модели model (1)</summary>",
                     '<th class="num">Каналы</th>', "<th>Форма выхода</th>",
                     "<summary>Выполнение: 5 ячеек за 12,5 с, сбоев: 2</summary>",
                     "<h3>Ячейка кода 3: ошибка (0,2 с)</h3>",
                     "<h3>Невыполненные строки</h3>", "<h2>Примечания</h2>",
                     f"<footer>nngrade 0.1.0 · схема отчёта {REPORT_SCHEMA_VERSION}</footer>"):
        assert fragment in page, fragment
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_in_english_keeps_its_words() -> None:
    page = render_html(_report("en"))
    assert '<html lang="en">' in page and '<meta charset="utf-8">' in page
    for fragment in ('<p class="sub">Grading report for <code>hw3.ipynb</code></p>',
                     '<div class="status">partial</div>', "<dt>Measured on</dt>",
                     "<p>1 of 2 passed.</p>", '<span class="tag">hidden</span>',
                     'aria-label="failed"', "<summary>Layers of model (1)</summary>",
                     "<summary>Execution: 5 cells in 12.5 s, 2 failed</summary>",
                     "<h3>Code cell 3: error (0.2 s)</h3>",
                     f"<footer>nngrade 0.1.0 · report schema {REPORT_SCHEMA_VERSION}</footer>"):
        assert fragment in page, fragment


def test_a_notebook_name_in_the_html_sentence_stays_escaped() -> None:
    report = _report("ru").model_copy(update={"notebook": f"{HOSTILE}\ue0000\ue001.ipynb"})
    page = render_html(report)
    assert HOSTILE not in page
    assert ("Отчёт о проверке ноутбука <code>&lt;script&gt;alert(1)&lt;/script&gt;"
            "\ue0000\ue001.ipynb</code>") in page


def test_plots_in_russian() -> None:
    base = _report("ru").models[0]
    models = [base,
              base.model_copy(update={"index": 1, "label": "wide", "conv_channels": [32, 64],
                                      "accuracy": 0.897}),
              base.model_copy(update={"index": 2, "label": "deep", "conv_pool_blocks": 3,
                                      "conv_channels": [16, 32, 64], "accuracy": 0.893}),
              base.model_copy(update={"index": 3, "label": "mlp", "kind": "mlp",
                                      "conv_channels": [], "accuracy": 0.861})]
    plots = {p.key: p for p in make_plots(models, language="ru")}
    assert [p.title for p in plots.values()] == [
        "Точность и ширина сети", "Точность и глубина сети", "Точность моделей"]
    width = plots["width"].svg
    for text in ("Всего каналов свёрток (сумма по свёрточным слоям)", "Точность (%)",
                 "2 свёрточных слоя", "3 свёрточных слоя", "MLP: 86,1% (mlp)", "89,7%"):
        assert text in width, text
    assert "Блоки «свёртка–пулинг»" in plots["depth"].svg
    assert "CNN и MLP" in plots["models"].svg
    english = make_plots(models)
    assert [p.title for p in english] == ["Accuracy vs width", "Accuracy vs depth",
                                          "Accuracy by model"]
    assert "2 conv layers" in english[0].svg and "MLP: 86.1% (mlp)" in english[0].svg


def test_numbers_are_written_the_language_s_way() -> None:
    assert [fmt_points(7.5, 10, lang) for lang in ("en", "ru")] == ["7.5 / 10", "7,5 / 10"]
    assert [fmt_num(v, "ru") for v in (2.0, 7.25, -0.001, 0.5)] == ["2", "7,25", "0", "0,5"]
    assert [fmt_num(v) for v in (2.0, 7.25, -0.001, 10.0)] == ["2", "7.25", "0", "10"]
    assert fmt_params(206_922, "ru") == f"206{NBSP}922" and fmt_params(206_922) == "206,922"
    assert [fmt_seconds(184.25, lang) for lang in ("en", "ru")] == ["184.2 s", "184,2 с"]
    long = "\n".join(f"line {i}" for i in range(35))
    assert tail(long, language="ru").splitlines()[0] == "… (выше опущено 5 строк)"
    assert tail(long).splitlines()[0] == "… (5 earlier lines omitted)"
    assert tail(long, 34, "ru").splitlines()[0] == "… (выше опущена 1 строка)"


def _ids(language: str) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in read_catalogues(language) if m.id}


def test_every_report_message_the_renderers_use_is_in_both_catalogues() -> None:
    folder = Path(__file__).resolve().parents[1] / "runner" / "report"
    used = set()
    for name in RENDERERS:
        source = (folder / name).read_text(encoding="utf-8")
        used |= set(re.findall(r"[\"'](report\.[a-z0-9_.]+[a-z0-9_])[\"']", source))
    used |= {f"report.status.{s}" for s in Status} | {f"report.mode.{m}" for m in Mode}
    used |= {"report.cell_status." + s.replace("-", "_") for s in CELL_STATUSES}
    used |= {f"report.column.{c}" for c in ("index", "model", "framework", "kind",
                                             "conv_channels", "kernels", "blocks", "params",
                                             "input_format")}
    used |= {f"report.layer.{c}" for c in ("kind", "type", "name", "channels", "kernel",
                                            "params", "output_shape")}
    used |= {f"report.grid.{key}{alt}" for key in ("segmentation", "samples", "reconstructions")
             for alt in ("", ".alt")}
    assert len(used) > 80
    for language in ("en", "ru"):
        assert sorted(used - _ids(language)) == [], language
    assert sorted(_ids("en") - used - {i for i in _ids("en") if not i.startswith("report.")}) \
        == [], "report.po holds messages no renderer uses"


def test_no_message_id_leaks_into_a_rendering() -> None:
    """A message missing from a catalogue renders as its id: none may be missing."""
    for language in ("en", "ru"):
        report = _report(language)
        for text in (render_markdown(report), render_html(report),
                     "\n".join(_console(report))):
            assert not re.search(r"\b(report|unit|cell|metric)\.[a-z_]+", text), language


def test_the_russian_plural_units_the_html_uses() -> None:
    assert [render(msg("report.html.execution", cells=msg("unit.cell", n=n), seconds=msg(
        "report.seconds", seconds=1.5), failed=0), "ru") for n in (1, 3, 5)] == [
        "Выполнение: 1 ячейка за 1,5 с, сбоев: 0", "Выполнение: 3 ячейки за 1,5 с, сбоев: 0",
        "Выполнение: 5 ячеек за 1,5 с, сбоев: 0"]
