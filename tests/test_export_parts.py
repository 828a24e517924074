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


def torch_vae():
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

    return VAE()


def test_the_pytorch_examples_encode_and_decode_methods_are_exported(tmp_path):
    import torch

    vae = torch_vae().eval()
    parts = _exported(torch_candidates(torch, vae, IMAGES), tmp_path)
    assert set(parts) == {"", "encode", "decode"}  # "": the module itself, also exported
    mean, log_var = _run(tmp_path / parts["encode"]["graph"], IMAGES.reshape(4, 784))
    with torch.no_grad():
        expected = vae.encode(torch.from_numpy(IMAGES.reshape(4, 784)))
        assert np.allclose(mean, expected[0].numpy(), atol=1e-5) and log_var.shape == (4, 4)
        (decoded,) = _run(tmp_path / parts["decode"]["graph"], mean)
        assert np.allclose(decoded, vae.decode(torch.from_numpy(mean)).numpy(), atol=1e-5)


def test_a_dcgan_generator_is_exported_taking_noise_as_one_by_one_channels(tmp_path):
    import torch
    from torch import nn

    generator = nn.Sequential(nn.ConvTranspose2d(16, 8, 7), nn.ReLU(),
                              nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh()).eval()
    parts = _exported(torch_candidates(torch, generator, IMAGES), tmp_path)
    assert parts[""]["input"] == [16, 1, 1]
    noise = np.random.default_rng(1).standard_normal((3, 16, 1, 1)).astype(np.float32)
    (images,) = _run(tmp_path / parts[""]["graph"], noise)
    with torch.no_grad():
        assert np.allclose(images, generator(torch.from_numpy(noise)).numpy(), atol=1e-5)


def conv_vae():
    """A conv VAE whose decoder's first layers are a child network of their own (a latent
    in, 64 x 7 x 7 features out), followed by transposed convolutions, and whose
    ``encode`` and ``decode`` methods are the halves."""
    import torch
    from torch import nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(8 * 14 * 14, 32))
            self.fc_mu, self.fc_logvar = nn.Linear(32, 4), nn.Linear(32, 4)
            self.dec_fc = nn.Sequential(nn.Linear(4, 64), nn.Linear(64, 64 * 7 * 7))
            self.dec = nn.Sequential(nn.ConvTranspose2d(64, 8, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(8, 1, 4, 2, 1))

        def encode(self, x):
            h = self.enc(x)
            return self.fc_mu(h), self.fc_logvar(h)

        def decode(self, z):
            return torch.sigmoid(self.dec(self.dec_fc(z).view(-1, 64, 7, 7)))

        def forward(self, x):
            mu, logvar = self.encode(x)
            return self.decode(mu), mu, logvar

    return VAE()


def test_a_conv_vae_with_methods_and_conv_children_exports_every_part(tmp_path):
    """Its decoder's transposed convolutions take 64 channels: the encoder's example must
    still be the images, not that child's noise."""
    import torch

    parts = _exported(torch_candidates(torch, conv_vae().eval(), IMAGES), tmp_path)
    assert {"encode", "decode"} <= set(parts)
    assert parts["encode"]["input"] == [1, 28, 28] and parts["decode"]["input"] == [4]
