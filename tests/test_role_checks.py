"""The `roles` check: a VAE's two halves and a GAN's two networks are found by what goes
in and out of them, whatever the student named them, and a missing half is named."""

from __future__ import annotations

from graders.architecture import summarise
from graders.context import GradingContext, ScoredModel
from graders.registry import kinds
from runner.i18n.render import render
from runner.measurements import MeasuredModel, ModelPart

IMAGE = 784  # Fashion-MNIST


def _model(index, name, inputs=(), outputs=(), parts=(), framework="keras"):
    measured = MeasuredModel(index=index, framework=framework, class_name="Model",
                             names=[name], params=100, layers=[], inputs=list(inputs),
                             outputs=list(outputs), parts=list(parts))
    return ScoredModel(measured, summarise([]), None)


def _part(name, inputs, outputs):
    return ModelPart(name=name, class_name="Functional", params=50, inputs=inputs,
                     outputs=outputs)


KERAS_VAE = _model(0, "vae", parts=[_part("encoder", [[28, 28, 1]], [[2], [2], [2]]),
                                    _part("decoder", [[2]], [[28, 28, 1]])])


def _check(params, *models, image_size=IMAGE):
    kind = kinds()["roles"]
    ctx = GradingContext(mode="grade", models=list(models), image_size=image_size,
                         num_classes=10)
    verdict = kind.evaluate(kind.params.model_validate(params), ctx)
    return verdict.fraction, render(verdict.message, "en")


def test_the_keras_examples_vae_is_an_encoder_of_means_and_a_decoder_of_one_latent():
    fraction, text = _check({"roles": ["vae_encoder", "decoder"], "same_latent": True},
                            KERAS_VAE)
    assert fraction == 1.0
    assert "#0 vae, its encoder: a VAE encoder" in text and "latent size 2" in text
    assert "#0 vae, its decoder: a decoder or generator" in text


def test_a_gan_is_a_generator_and_a_discriminator_trained_apart():
    generator = _model(0, "generator", [[100]], [[28, 28, 1]], framework="pytorch")
    critic = _model(1, "discriminator", [[784]], [[1]], framework="pytorch")
    fraction, text = _check({"roles": ["decoder", "discriminator"]}, generator, critic)
    assert fraction == 1.0 and "#1 discriminator: a discriminator" in text
    fraction, text = _check({"roles": ["decoder", "discriminator"], "framework": "keras"},
                            generator, critic)
    assert fraction == 0.0 and "no model with any of these roles" in text


def test_a_plain_autoencoder_is_no_vae_and_the_report_says_what_was_found():
    autoencoder = _model(0, "ae", parts=[_part("encoder", [[28, 28, 1]], [[32]]),
                                         _part("decoder", [[32]], [[28, 28, 1]])])
    fraction, text = _check({"roles": ["vae_encoder", "decoder"]}, autoencoder)
    assert fraction == 0.0
    assert text.startswith("no trained model, and no model inside one, is a VAE encoder")
    assert "#0 ae, its encoder: an encoder (an image in, a small vector out), latent size 32"\
        in text


def test_halves_of_two_different_sizes_are_not_one_vae():
    decoder = _model(1, "decoder", [[16]], [[28, 28, 1]])
    encoder = _model(0, "encoder", [[28, 28, 1]], [[8], [8]])
    fraction, text = _check({"roles": ["vae_encoder", "decoder"], "same_latent": True},
                            encoder, decoder)
    assert fraction == 0.0 and "(8) is not the decoder's input size (16)" in text
    assert _check({"roles": ["vae_encoder", "decoder"]}, encoder, decoder)[0] == 1.0


def test_without_images_in_the_task_no_role_is_found():
    fraction, _ = _check({"roles": ["decoder"]}, KERAS_VAE, image_size=None)
    assert fraction == 0.0
