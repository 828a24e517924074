"""Check kinds' verdicts rendered in Russian: exact sentences, plural forms, decimal commas.

The verdicts are real (the check kinds on hand-made grading contexts, as in
tests/test_checks.py); only the language they are rendered in differs.
"""

from __future__ import annotations

import numpy as np

from graders.architecture import summarise
from graders.autograd_derivative import df
from graders.context import CellReport, FunctionResult, GradingContext, ScoredModel
from graders.execution import executes
from graders.functions import FunctionParams, FunctionValuesParams, function_values, uses_autograd
from graders.metric_checks import (
    BaselineParams,
    MetricParams,
    TrainedParams,
    beats_baseline,
    metric_check,
    trained_model,
)
from graders.models import ComparisonParams, depth_comparison, width_comparison
from graders.selection import Selection
from runner.i18n.render import render
from runner.measurements import Layer, MeasuredModel


def _ru(verdict) -> str:
    return render(verdict.message, "ru")


def _model(index: int, layers: list[Layer], accuracy: float | None = None, *,
           metrics: dict[str, float] | None = None, framework: str = "pytorch",
           perturbed: dict[str, float] | None = None) -> ScoredModel:
    measured = MeasuredModel(index=index, framework=framework, class_name="Net", names=["model"],
                             params=1000, layers=layers)
    return ScoredModel(measured, summarise(layers), accuracy,
                       metrics if metrics is not None else {"accuracy": accuracy},
                       perturbed=perturbed or {})


def _cnn(index: int, channels: list[int], accuracy: float, **more) -> ScoredModel:
    layers = []
    for width in channels:
        layers += [Layer(kind="conv", type="Conv2d", channels=width, kernel_size=[3, 3]),
                   Layer(kind="pool", type="MaxPool2d", kernel_size=[2, 2])]
    layers += [Layer(kind="flatten", type="Flatten"),
               Layer(kind="dense", type="Linear", channels=10)]
    return _model(index, layers, accuracy, **more)


def _lstm(index: int, rmse: float) -> ScoredModel:
    layers = [Layer(kind="recurrent", type="LSTM", channels=64),
              Layer(kind="dense", type="Dense", channels=1)]
    return _model(index, layers, metrics={"rmse": rmse}, framework="keras")


def test_all_code_cells_ran_in_the_right_plural_form():
    sentences = [_ru(executes(None, GradingContext(
        mode="grade", cells=[CellReport(i, "ok") for i in range(n)]))) for n in (1, 2, 5, 21)]
    assert sentences == ["1 ячейка кода из 1 выполнилась без ошибок",
                         "все 2 ячейки кода выполнились без ошибок",
                         "все 5 ячеек кода выполнились без ошибок",
                         "21 ячейка кода из 21 выполнилась без ошибок"]


def test_a_failed_cell_is_named_by_its_code_cell_number_with_its_error_as_it_is():
    cells = [CellReport(0, "ok"), CellReport(2, "error", "NameError: name 'modle' is not defined"),
             CellReport(4, "skipped")]
    assert _ru(executes(None, GradingContext(mode="grade", cells=cells))) == (
        "ячейка кода 2 вызвала ошибку: NameError: name 'modle' is not defined; следующие за ней "
        "ячейки не выполнялись")
    timeout = [CellReport(0, "timeout")]
    assert _ru(executes(None, GradingContext(mode="grade", cells=timeout))) == (
        "ячейка кода 1 превысила лимит времени; следующие за ней ячейки не выполнялись")


def test_a_metric_is_written_with_a_decimal_comma():
    params = MetricParams(metric="rmse", floor=100, target=50)
    ctx = GradingContext(mode="grade", models=[_lstm(0, 75.0)],
                         evaluation_set="скрытый конец ряда")
    assert _ru(metric_check(params, ctx)) == (
        "#0 model: RMSE 75,00 — скрытый конец ряда: частичный балл — значение между 100,00 и "
        "целью 50,00")
    accuracy = MetricParams(metric="accuracy", floor=0.8, target=0.89)
    ctx = GradingContext(mode="grade", models=[_cnn(0, [16, 32], 0.9115)],
                         evaluation_set="скрытая тестовая выборка")
    assert _ru(metric_check(accuracy, ctx)) == (
        "#0 model: точность 0,9115 — скрытая тестовая выборка (цель — 0,8900)")


def test_a_model_that_only_recognises_the_test_inputs_is_explained_in_russian():
    lookup = _cnn(0, [32, 64], 1.0, perturbed={"accuracy": 0.8512})
    params = MetricParams(metric="accuracy", floor=0.8, target=0.89)
    text = _ru(metric_check(params, GradingContext(mode="grade", models=[lookup],
                                                   evaluation_set="скрытая тестовая выборка")))
    assert text.startswith("#0 model: точность 1,0000 — скрытая тестовая выборка, но 0,8512 на "
                           "тех же входных данных с шумом. ")
    assert text.endswith("Баллы не начислены: решение за преподавателем.")


def test_depths_and_their_blocks_take_their_plural_forms():
    models = [_cnn(0, [8], 0.8), _cnn(1, [8, 16], 0.85), _cnn(2, [8, 16, 32, 64, 128], 0.9)]
    verdict = depth_comparison(ComparisonParams(), GradingContext(mode="grade", models=models))
    assert verdict.fraction == 1.0
    assert _ru(verdict) == ("свёрточные сети 3 разных глубин: #0 model (1 блок: 0,8000), "
                            "#1 model (2 блока: 0,8500), #2 model (5 блоков: 0,9000)")


def test_widths_are_compared_in_words_with_the_layers_in_the_instrumental():
    models = [_cnn(0, [16, 32], 0.885), _cnn(1, [32, 64], 0.897)]
    verdict = width_comparison(ComparisonParams(), GradingContext(mode="grade", models=models))
    assert _ru(verdict) == ("2 свёрточные сети с 2 свёрточными слоями и разной шириной: "
                            "#0 model (16/32: 0,8850), #1 model (32/64: 0,8970)")


def test_an_architecture_and_a_selection_in_russian():
    layers = [Layer(kind="dense", type="Linear", channels=16),
              Layer(kind="activation", type="ReLU"),
              Layer(kind="dense", type="Linear", channels=1)]
    nonlinear = TrainedParams(select=Selection(models="nonlinear"))
    found = trained_model(nonlinear, GradingContext(mode="grade", models=[_model(1, layers, 0.9)]))
    assert _ru(found) == "#1 model: MLP, 2 полносвязных слоя, 1 скрытая нелинейность"
    lstm = TrainedParams(select=Selection(layer_types=["LSTM", "LSTMCell"], framework="pytorch"))
    missing = trained_model(lstm, GradingContext(mode="grade", models=[_lstm(0, 70.0)]))
    assert _ru(missing) == (
        "ни одна модель со слоем типа LSTM или LSTMCell (PyTorch) не обучена; найдено: "
        "#0 model: keras, RNN: LSTM(64), затем 1 полносвязный слой")


def test_backward_passes_are_counted_in_russian():
    x = np.linspace(-3, 3, 64)
    params = FunctionParams(function="grad_f")
    said = [_ru(uses_autograd(params, GradingContext(mode="grade", functions={
        "grad_f": FunctionResult("grad_f", x, df(x), calls)}))) for calls in (1, 2, 5)]
    assert said == ["функция `grad_f` выполнила 1 обратный проход",
                    "функция `grad_f` выполнила 2 обратных прохода",
                    "функция `grad_f` выполнила 5 обратных проходов"]


def test_a_wrong_derivative_shows_its_counterexample_with_decimal_commas():
    x = np.array([0.5, 1.5])
    values = df(x) + np.array([0.0, 0.25])
    params = FunctionValuesParams(function="grad_f", expected="graders.autograd_derivative:df")
    verdict = function_values(params, GradingContext(mode="grade", functions={
        "grad_f": FunctionResult("grad_f", x, values)}))
    assert _ru(verdict) == (
        "функция `grad_f` неверна в 1 из 2 контрольных точек, например при x = 1,5: получено "
        "-0,127251, ожидалось -0,377251")


def test_a_forecast_is_compared_with_the_seasonal_naive_one():
    params = BaselineParams(metric="rmse", baseline="seasonal_naive", floor_ratio=1.5)
    ctx = GradingContext(mode="grade", models=[_lstm(0, 100.0)],
                         baselines={"seasonal_naive": {"rmse": 77.0}})
    assert _ru(beats_baseline(params, ctx)) == (
        "#0 model: RMSE 100,00; сезонный наивный прогноз (каждый месяц — как в последнем "
        "наблюдавшемся году): 77,00: частичный балл, так как RMSE модели составляет 1,30 от "
        "значения, которое даёт сезонный наивный прогноз")
