"""The halves of a VAE exported apart, as the clean room needs them: the Keras example's
encoder cut at its mean (its sampling layer does not convert) and its decoder, and the
PyTorch example's ``encode`` and ``decode`` methods; each graph computes what the part
computes."""

from __future__ import annotations

import numpy as np
import onnxruntime

from runner.probe.export_parts import export_parts, keras_candidates, torch_candidates

IMAGES = np.random.default_rng(0).uniform(0, 1, (4, 28, 28)).astype(np.float32)


def _run(path, batch):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch.astype(np.float32)})


def _exported(candidates, tmp_path):
    errors = []
    records = export_parts(0, candidates, tmp_path, lambda name, error: errors.append(error))
    assert errors == []
    return {r["name"]: r for r in records}


def keras_vae():
    import keras
    from keras import layers, ops

    class Sampling(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean))

    class VAE(keras.Model):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

    image = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    z_mean, z_log_var = layers.Dense(2)(x), layers.Dense(2)(x)
    encoder = keras.Model(image, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])])
    latent = keras.Input((2,))
    x = layers.Reshape((7, 7, 8))(layers.Dense(7 * 7 * 8, activation="relu")(latent))
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    out = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    decoder = keras.Model(latent, out)
    return VAE(encoder, decoder)


def test_the_keras_examples_encoder_is_exported_up_to_its_mean(tmp_path):
    vae = keras_vae()
    parts = _exported(keras_candidates(vae, IMAGES), tmp_path)
    assert set(parts) == {"encoder", "decoder"}
    batch = IMAGES[:, :, :, None]
    (mean,) = _run(tmp_path / parts["encoder"]["graph"], batch)
    assert np.allclose(mean, np.asarray(vae.encoder(batch)[0]), atol=1e-5)
    (decoded,) = _run(tmp_path / parts["decoder"]["graph"], mean)
    assert decoded.shape == (4, 28, 28, 1)
    assert np.allclose(decoded, np.asarray(vae.decoder(mean)), atol=1e-5)


def test_the_pytorch_examples_encode_and_decode_methods_are_exported(tmp_path):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class VAE(nn.Module):  # the PyTorch example's, with its layers as single children
        def __init__(self):
            super().__init__()
            self.fc1, self.fc21, self.fc22 = nn.Linear(784, 64), nn.Linear(64, 4), nn.Linear(64, 4)
            self.fc3, self.fc4 = nn.Linear(4, 64), nn.Linear(64, 784)

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return self.fc21(h), self.fc22(h)

        def decode(self, z):
            return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            return self.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)), mu, logvar

    vae = VAE().eval()
    parts = _exported(torch_candidates(torch, vae, IMAGES), tmp_path)
    assert set(parts) == {"encode", "decode"}
    mean, log_var = _run(tmp_path / parts["encode"]["graph"], IMAGES.reshape(4, 784))
    with torch.no_grad():
        expected = vae.encode(torch.from_numpy(IMAGES.reshape(4, 784)))
        assert np.allclose(mean, expected[0].numpy(), atol=1e-5) and log_var.shape == (4, 4)
        (decoded,) = _run(tmp_path / parts["decode"]["graph"], mean)
        assert np.allclose(decoded, vae.decode(torch.from_numpy(mean)).numpy(), atol=1e-5)
