"""The fashion_mnist_cnn and autograd checks, on measured data as the probe writes it."""

from __future__ import annotations

import numpy as np
import pytest

from graders.architecture import summarise
from graders.autograd_derivative import df, f
from graders.context import CellReport, FunctionResult, GradingContext, ScoredModel
from runner import assignments
from runner.i18n.render import render
from runner.measurements import Layer, MeasuredModel
from runner.report.model import Mode
from runner.scoring import score

FASHION = assignments.load("fashion_mnist_cnn")
AUTOGRAD = assignments.load("autograd_derivative")


def cnn(index, channels, kernels, accuracy, *, pools=True, name="model"):
    layers = []
    for c, k in zip(channels, kernels, strict=True):
        layers += [Layer(kind="conv", type="Conv2d", channels=c, kernel_size=[k, k]),
                   Layer(kind="activation", type="ReLU")]
        if pools:
            layers.append(Layer(kind="pool", type="MaxPool2d", kernel_size=[2, 2]))
    layers += [Layer(kind="flatten", type="Flatten"), Layer(kind="dense", type="Linear",
                                                            channels=10)]
    return _scored(index, layers, accuracy, name)


def mlp(index, accuracy):
    layers = [Layer(kind="flatten", type="Flatten"),
              Layer(kind="dense", type="Dense", channels=128),
              Layer(kind="dense", type="Dense", channels=10)]
    return _scored(index, layers, accuracy, "mlp")


def _scored(index, layers, accuracy, name):
    measured = MeasuredModel(index=index, framework="pytorch", class_name="Net", names=[name],
                             params=1000, layers=layers)
    return ScoredModel(measured, summarise(layers), accuracy)


def run_checks(assignment, **context):
    cells = context.pop("cells", [CellReport(0, "ok"), CellReport(1, "ok")])
    ctx = GradingContext(mode="grade", cells=cells, **context)
    return {c.id: c for c in score(assignment, ctx, Mode.grade)}


COMPLETE = [cnn(0, [16, 32], [5, 3], 0.885), cnn(1, [32, 64], [5, 3], 0.897),
            cnn(2, [16, 32, 64], [5, 3, 3], 0.893), mlp(3, 0.861)]


def test_a_complete_notebook_earns_full_marks():
    checks = run_checks(FASHION, models=COMPLETE)
    assert all(c.passed for c in checks.values()), {k: c.message for k, c in checks.items()}
    assert sum(c.points for c in checks.values()) == 10
    assert "#1 model: accuracy 0.8970" in checks["cnn_accuracy"].message


def test_accuracy_gets_linear_partial_credit_between_floor_and_target():
    checks = run_checks(FASHION, models=[cnn(0, [16, 32], [5, 3], 0.845)])
    accuracy = checks["cnn_accuracy"]
    assert not accuracy.passed
    assert accuracy.points == pytest.approx(3 * (0.845 - 0.80) / (0.89 - 0.80), abs=0.01)
    assert "partial credit" in accuracy.message


def test_mlp_only_loses_every_cnn_check():
    checks = run_checks(FASHION, models=[mlp(0, 0.87)])
    assert checks["mlp_baseline"].passed and checks["executes"].passed
    for failed in ("alexnet_cnn", "cnn_accuracy", "width_comparison", "depth_comparison"):
        assert not checks[failed].passed and checks[failed].points == 0
    assert "no convolutional network" in checks["alexnet_cnn"].message


def test_kernels_that_do_not_shrink_are_explained():
    checks = run_checks(FASHION, models=[cnn(0, [32, 64], [5, 5], 0.9), mlp(1, 0.86)])
    assert not checks["alexnet_cnn"].passed
    assert "kernel sizes 5, 5: the task asks for kernels that shrink with depth" in \
        checks["alexnet_cnn"].message
    # Accuracy counts for any CNN: the kernels already cost the architecture points.
    assert checks["cnn_accuracy"].passed


def test_growing_kernels_and_missing_pooling_are_explained():
    growing = run_checks(FASHION, models=[cnn(0, [16, 32], [3, 5], 0.9)])
    assert "grow somewhere" in growing["alexnet_cnn"].message
    no_pool = run_checks(FASHION, models=[cnn(0, [16, 32], [5, 3], 0.9, pools=False)])
    assert "0 conv-pool block(s)" in no_pool["alexnet_cnn"].message


def test_width_needs_equal_depth_and_different_channels():
    same_width = [cnn(0, [16, 32], [5, 3], 0.88), cnn(1, [16, 32], [5, 3], 0.885),
                  cnn(2, [16, 32, 64], [5, 3, 3], 0.89)]
    checks = run_checks(FASHION, models=same_width)
    assert not checks["width_comparison"].passed
    assert "16/32" in checks["width_comparison"].message
    assert checks["depth_comparison"].passed


def test_depth_needs_different_block_counts():
    checks = run_checks(FASHION, models=[cnn(0, [16, 32], [5, 3], 0.88),
                                         cnn(1, [32, 64], [5, 3], 0.89)])
    assert checks["width_comparison"].passed
    assert not checks["depth_comparison"].passed
    assert "every measured CNN has 2 conv-pool block(s)" in checks["depth_comparison"].message


def test_unmeasurable_models_do_not_count_and_say_why():
    broken = cnn(0, [16, 32], [5, 3], None)
    broken = ScoredModel(broken.measured.model_copy(update={"error": "output has shape [N, 2]"}),
                         broken.architecture, None)
    checks = run_checks(FASHION, models=[broken])
    assert "output has shape [N, 2]" in checks["cnn_accuracy"].message


def test_a_failing_cell_costs_the_execution_point_with_its_error():
    # Notebook cells 1 and 3 are markdown: the failing cell is the second code cell, [2]
    # in the executed notebook.
    cells = [CellReport(0, "ok"), CellReport(2, "error", "NameError: name 'modle' is not defined"),
             CellReport(4, "skipped")]
    checks = run_checks(FASHION, models=COMPLETE, cells=cells)
    assert not checks["executes"].passed and checks["executes"].points == 0
    assert checks["executes"].message == ("code cell 2 raised an error: NameError: name 'modle' "
                                          "is not defined; the cells after it did not run")


def test_a_notebook_without_code_cells_does_not_run_from_top_to_bottom():
    checks = run_checks(AUTOGRAD, cells=[])
    assert not checks["executes"].passed and checks["executes"].points == 0
    assert checks["executes"].message == "the notebook has no code cells"


def test_a_run_that_left_no_record_of_its_cells_says_why_not_that_there_were_none():
    checks = run_checks(AUTOGRAD, cells=[], stopped="the notebook did not start")
    assert not checks["executes"].passed
    assert checks["executes"].message == "execution stopped: the notebook did not start"


def test_no_models_at_all_tells_the_student_what_counts_as_trained():
    checks = run_checks(FASHION, models=[])
    assert "no trained model was found" in checks["cnn_accuracy"].message


def _functions(grad_values, autograd_calls=2):
    x = np.linspace(-3, 3, 64)
    return {"f": FunctionResult("f", x, f(x)),
            "grad_f": FunctionResult("grad_f", x, grad_values(x), autograd_calls)}


def test_autograd_full_marks_and_a_hand_written_gradient():
    checks = run_checks(AUTOGRAD, functions=_functions(df))
    assert all(c.passed for c in checks.values())
    manual = run_checks(AUTOGRAD, functions=_functions(df, autograd_calls=0))
    assert manual["gradient_values"].passed and not manual["uses_autograd"].passed
    assert "ran no backward pass" in manual["uses_autograd"].message


def test_autograd_wrong_derivative_shows_a_counterexample():
    checks = run_checks(AUTOGRAD, functions=_functions(lambda x: df(x) * 1.01))
    message = checks["gradient_values"].message
    assert not checks["gradient_values"].passed
    assert "wrong at 64 of 64 test points" in message and "expected" in message


def test_autograd_wrong_shape_and_missing_function():
    x = np.linspace(-3, 3, 64)
    functions = {"f": FunctionResult("f", x, f(x).sum(keepdims=True)),
                 "grad_f": FunctionResult("grad_f", x, None, error="NameError: grad_f")}
    checks = run_checks(AUTOGRAD, functions=functions)
    assert "returned shape [1]" in checks["function_values"].message
    assert "NameError: grad_f" in checks["gradient_values"].message


def test_analytic_derivative_matches_finite_differences():
    x = np.linspace(-3, 3, 101)
    h = 1e-6
    assert np.allclose(df(x), (f(x + h) - f(x - h)) / (2 * h), rtol=1e-5, atol=1e-6)


PERCEPTRON = assignments.load("perceptron_nonlinear")


def dense_net(index, accuracy, *, hidden=True, framework="pytorch", name="net"):
    layers = [Layer(kind="dense", type="Linear", channels=16 if hidden else 1)]
    if hidden:
        layers += [Layer(kind="activation", type="ReLU"),
                   Layer(kind="dense", type="Linear", channels=1)]
    measured = MeasuredModel(index=index, framework=framework, class_name="Sequential",
                             names=[name], params=65, layers=layers)
    return ScoredModel(measured, summarise(layers), accuracy, {"accuracy": accuracy})


def test_a_perceptron_and_a_network_with_a_hidden_non_linearity_earn_full_marks():
    checks = run_checks(PERCEPTRON, models=[dense_net(0, 0.87, hidden=False, name="perceptron"),
                                            dense_net(1, 0.966)])
    assert all(c.passed for c in checks.values()), {k: c.message for k, c in checks.items()}
    assert "#1 net: MLP, 2 dense layers, 1 hidden non-linearity" in \
        checks["nonlinear_network"].message
    assert "#0 perceptron: accuracy 0.8700" in checks["linear_falls_short"].message


def test_keras_activations_inside_dense_layers_count_as_hidden_non_linearities():
    layers = [Layer(kind="dense", type="Dense", channels=16, activation="relu"),
              Layer(kind="dense", type="Dense", channels=1, activation="sigmoid")]
    assert summarise(layers).hidden_nonlinearities == 1
    logistic = [Layer(kind="dense", type="Dense", channels=1, activation="sigmoid")]
    assert summarise(logistic).linear


def test_the_right_network_in_the_wrong_framework_is_named_as_such():
    checks = run_checks(PERCEPTRON, models=[dense_net(0, 0.97, framework="keras")])
    assert not checks["nonlinear_network"].passed
    assert ("no network with a hidden non-linearity (PyTorch) was trained; found #0 net: "
            "keras") in checks["nonlinear_network"].message
    assert checks["hidden_accuracy"].points == 0


def test_a_comparison_needs_both_kinds_and_a_real_gap():
    only_linear = run_checks(PERCEPTRON, models=[dense_net(0, 0.87, hidden=False)])
    message = only_linear["linear_falls_short"].message
    assert "no network with a hidden non-linearity (PyTorch) was measured" in message
    too_close = run_checks(PERCEPTRON, models=[dense_net(0, 0.87, hidden=False),
                                               dense_net(1, 0.89)])
    assert not too_close["linear_falls_short"].passed
    assert "better by at least 0.0500" in too_close["linear_falls_short"].message
    assert too_close["hidden_accuracy"].points == pytest.approx(4 * (0.89 - 0.88) / 0.07, abs=0.01)


def test_a_metric_where_lower_is_better_gets_credit_from_floor_down_to_target():
    from graders.metric_checks import MetricParams, metric_check

    params = MetricParams(metric="rmse", floor=100, target=50)
    layers = [Layer(kind="recurrent", type="LSTM", channels=32),
              Layer(kind="dense", type="Linear", channels=1)]
    measured = MeasuredModel(index=0, framework="keras", class_name="Sequential",
                             names=["lstm"], params=100, layers=layers)
    model = ScoredModel(measured, summarise(layers), None, {"rmse": 75.0})
    verdict = metric_check(params, GradingContext(mode="grade", models=[model]))
    assert verdict.fraction == pytest.approx(0.5)
    text = render(verdict.message, "en")
    assert "RMSE 75.00" in text and "partial credit" in text
    with pytest.raises(ValueError, match="better when lower"):
        MetricParams(metric="rmse", floor=50, target=100)


AIRLINE = assignments.load("lstm_airline_passengers")
NAIVE = {"seasonal_naive": {"rmse": 77.0, "mae": 70.0}, "naive": {"rmse": 130.0}}


def forecaster(index, rmse, *, recurrent="LSTM"):
    layers = [Layer(kind="recurrent", type=recurrent, channels=64),
              Layer(kind="dense", type="Dense", channels=1)]
    measured = MeasuredModel(index=index, framework="keras", class_name="Sequential",
                             names=["model"], params=17000, layers=layers)
    return ScoredModel(measured, summarise(layers), None, {"rmse": rmse})


def test_an_lstm_that_beats_the_seasonal_naive_forecast_earns_full_marks():
    checks = run_checks(AIRLINE, models=[forecaster(0, 70.0)], baselines=NAIVE)
    assert all(c.passed for c in checks.values()), {k: c.message for k, c in checks.items()}
    assert "#0 model: RNN: LSTM(64), then 1 dense layer" in checks["lstm_trained"].message
    assert ("#0 model: RMSE 70.00; seasonal naive forecast (each month as in the last observed "
            "year): 77.00") in checks["beats_seasonal_naive"].message


def test_a_weaker_lstm_gets_credit_in_proportion_on_both_scales():
    checks = run_checks(AIRLINE, models=[forecaster(0, 100.0)], baselines=NAIVE)
    assert checks["forecast_error"].points == pytest.approx(5 * (150 - 100) / 70, abs=0.01)
    ratio = 100 / 77
    assert checks["beats_seasonal_naive"].points == pytest.approx(
        2 * (ratio - 1.5) / (1.0 - 1.5), abs=0.01)
    assert "1.30 times" in checks["beats_seasonal_naive"].message


def test_a_gru_is_not_the_lstm_the_task_asks_for():
    checks = run_checks(AIRLINE, models=[forecaster(0, 60.0, recurrent="GRU")],
                        baselines=NAIVE)
    assert not checks["lstm_trained"].passed
    assert "no model with a layer of type LSTM or LSTMCell was trained; found #0 model: " \
           "keras, RNN: GRU(64)" in checks["lstm_trained"].message
    assert checks["forecast_error"].points == 0


def _with_noise(model, clean, noisy):
    return ScoredModel(model.measured, model.architecture, clean, {"accuracy": clean},
                       perturbed={"accuracy": noisy})


LOOKUP = _with_noise(cnn(0, [32, 64], [5, 3], None, name="lookup"), 1.0, 0.8512)
HONEST = _with_noise(cnn(1, [16, 32], [5, 3], None, name="honest"), 0.895, 0.8931)


def test_a_model_that_recognises_the_test_images_earns_no_accuracy_points():
    checks = run_checks(FASHION, models=[LOOKUP], perturbation="noise of up to ±3",
                        evaluation_set="hidden official test set (10000 images)")
    accuracy = checks["cnn_accuracy"]
    assert accuracy.points == 0
    assert ("#0 lookup: accuracy 1.0000 on the hidden official test set (10000 images), but "
            "0.8512 on the same inputs with noise of up to ±3") in accuracy.message
    assert "withheld for the instructor to judge" in accuracy.message


def test_an_honest_model_beside_a_lookup_is_scored_and_the_lookup_named():
    checks = run_checks(FASHION, models=[LOOKUP, HONEST], perturbation="noise of up to ±3")
    accuracy = checks["cnn_accuracy"]
    assert accuracy.passed
    assert accuracy.message.startswith("#1 honest: accuracy 0.8950")
    assert "not counted: #0 lookup" in accuracy.message
