"""What the host makes of a generative model's clean-room results before judging them:
files that are not the 8-bit images asked for are refused with why, and a model none of
whose graphs is a decoder is told so, with the roles its graphs play."""

from __future__ import annotations

import numpy as np

from runner.cleanroom import CleanModel, CleanRoom
from runner.generation_parts import Generative, GraphPart
from runner.generation_scores import score_generation, score_models
from runner.i18n.render import render
from runner.provision import GenerationTruth

TRUTH = GenerationTruth("fashion_mnist", np.zeros((100, 28, 28), np.uint8),
                        np.zeros((10, 28, 28), np.uint8), (28, 28), 100, 3)


def _written(tmp_path, array) -> CleanModel:
    (tmp_path / "cleanroom").mkdir(exist_ok=True)
    np.save(tmp_path / "cleanroom" / "model_0_samples.npy", array)
    return CleanModel(index=0, samples="cleanroom/model_0_samples.npy")


def test_samples_that_are_not_the_images_asked_for_are_refused_with_why(tmp_path):
    for array, why in ((np.zeros((100, 28, 28)), "float64"),
                       (np.zeros((99, 28, 28), np.uint8), "[99, 28, 28]"),
                       (np.zeros((100, 784), np.uint8), "[100, 784]")):
        score = score_generation(tmp_path, _written(tmp_path, array), TRUTH, stick=None)
        assert score.metrics == {} and score.error is not None
        assert why in render(score.error, "en")


def test_a_model_without_a_decoder_is_told_which_roles_its_graphs_play():
    parts = (GraphPart("", "graphs/model_0_0.onnx", "discriminator", None, (28, 28, 1)),
             GraphPart("head", "graphs/model_0_1.onnx", None, None, (10,)))
    scores = score_models(CleanRoom(), {0: Generative(None, None, parts)}, TRUTH,
                          network=None)
    words = render(scores[0].error, "en")
    assert "none of its exported parts takes a small vector and returns an image" in words
    assert "-: a discriminator (an image in, one number out)" in words
    assert "head: no role" in words
    assert [p.role for p in scores[0].parts] == ["discriminator", None]


def test_a_decoder_the_clean_room_did_not_run_is_not_scored():
    decoder = GraphPart("decoder", "graphs/model_0_1.onnx", "decoder", 8, (8,))
    scores = score_models(CleanRoom(), {0: Generative(decoder, None, (decoder,))}, TRUTH,
                          network=None)
    assert scores[0].metrics == {}
    assert "could not be evaluated in the clean room" in render(scores[0].error, "en")


def test_a_model_whose_parts_failed_to_export_says_why():
    scores = score_models(CleanRoom(), {0: Generative(None, None, (), "RuntimeError: boom")},
                          TRUTH, network=None)
    assert render(scores[0].error, "en") == ("its parts could not be exported, so nothing "
                                             "of it was sampled: RuntimeError: boom")
