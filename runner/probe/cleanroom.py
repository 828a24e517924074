"""The clean room: run exported graphs on the grader's inputs, in a sandbox of their own.

Started as ``python -m nngrade_probe.cleanroom JOB_JSON`` in a fresh sandbox that has
never run student code: it holds the exported ONNX graphs, the inputs to predict and
this package, nothing else. Each graph is run with onnxruntime on the inputs laid out
and scaled as the probe found the model was trained, and what it computes is written
as plain arrays: class ids for the evaluation inputs and their noisy copy (a mask
each, for segmentation), or the
closed-loop forecast of the horizon from the public history; and the raw outputs on
the public inputs the kernel's own outputs are compared with.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .feeding import ARGMAX, Format, Layout, apply, classes
from .output import save_json, save_npy

_ERROR_CHARS = 1000


def _format(spec: dict[str, Any]) -> Format:
    transpose = spec.get("transpose")
    return Format(layout=Layout(tuple(spec["shape"]), tuple(transpose) if transpose else None),
                  scale=np.atleast_1d(np.asarray(spec["scale"], np.float64)),
                  shift=np.atleast_1d(np.asarray(spec["shift"], np.float64)),
                  source=str(spec.get("source", "")),
                  decision=str(spec.get("decision", ARGMAX)))


def _session(graph: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 0  # as many as the sandbox's CPUs
    session = onnxruntime.InferenceSession(str(graph), options,
                                           providers=["CPUExecutionProvider"])
    (first, *rest) = session.get_inputs()
    if rest:
        raise ValueError(f"the graph takes {len(rest) + 1} inputs; one was expected")

    def predict(batch: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {first.name: batch.astype(np.float32)})[0])

    return predict


def evaluate(model: dict[str, Any], inputs: dict[str, np.ndarray], out: Path,
             horizon: int | None = None, pixels: tuple[int, int] | None = None
             ) -> dict[str, Any]:
    """One model's record: where its predictions were written, or why there are none.
    ``pixels``: the masks' height and width, when every pixel gets a class."""
    index = int(model["index"])
    record: dict[str, Any] = {"index": index, "predictions": None,
                              "perturbed_predictions": None, "reference_outputs": None,
                              "seconds": None, "error": None}
    started = time.perf_counter()
    try:
        predict = _session(Path(model["graph"]))
        if horizon is not None:
            _forecast(index, predict, model, inputs["history"], horizon, record, out)
        else:
            _classify(index, predict, model, inputs, record, out, pixels)
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def _forecast(index: int, predict: Any, model: dict[str, Any], history: np.ndarray,
              horizon: int, record: dict[str, Any], out: Path) -> None:
    """The closed-loop forecast, fed exactly as the kernel's probe fed the model."""
    from .forecast import SeriesFormat, calibration_windows, closed_loop

    fmt = SeriesFormat.from_json(model["input"])
    history = history.astype(np.float64)
    reference = calibration_windows(history, fmt)
    relative = f"cleanroom/model_{index}_reference.npy"
    save_npy(out / relative, np.asarray(predict(reference), np.float32))
    record["reference_outputs"] = relative
    relative = f"cleanroom/model_{index}.npy"
    save_npy(out / relative, closed_loop(predict, history, horizon, fmt))
    record["predictions"] = relative


def _classify(index: int, predict: Any, model: dict[str, Any], inputs: dict[str, np.ndarray],
              record: dict[str, Any], out: Path, pixels: tuple[int, int] | None) -> None:
    """Class ids for the evaluation inputs (and their noisy copy), fed as the kernel fed them."""
    fmt = _format(model["input"])
    reference = inputs["calibration_inputs"][:int(model["reference_rows"])]
    relative = f"cleanroom/model_{index}_reference.npy"
    save_npy(out / relative, predict(apply(reference, fmt)).astype(np.float32))
    record["reference_outputs"] = relative
    relative = f"cleanroom/model_{index}.npy"
    save_npy(out / relative, classes(predict, inputs["eval_inputs"], fmt, pixels))
    record["predictions"] = relative
    if "perturbed_inputs" in inputs:
        relative = f"cleanroom/model_{index}_perturbed.npy"
        save_npy(out / relative, classes(predict, inputs["perturbed_inputs"], fmt, pixels))
        record["perturbed_predictions"] = relative


def generate(model: dict[str, Any], inputs: dict[str, np.ndarray], plan: dict[str, Any],
             out: Path) -> dict[str, Any]:
    """A generative model's record: its decoder's samples of the host's noise and, with an
    encoder, the hidden images rebuilt through both, as 8-bit images."""
    from .generation import reconstructions, samples_from

    index = int(model["index"])
    record: dict[str, Any] = {"index": index, "samples": None, "reconstructions": None,
                              "seconds": None, "error": None}
    started = time.perf_counter()
    shape = [int(d) for d in plan["image_shape"]]
    try:
        decode = _session(Path(model["decoder"]["graph"]))
        samples = samples_from(decode, model["decoder"]["input"], int(plan["samples"]),
                               int(plan["seed"]), shape)
        record["samples"] = _save_images(out, f"cleanroom/model_{index}_samples.npy", samples)
        if model.get("encoder"):
            encode = _session(Path(model["encoder"]["graph"]))
            hidden = inputs["hidden_images"][:int(plan["reconstructed"])]
            rebuilt, _ = reconstructions(encode, decode, model["encoder"]["input"],
                                         inputs["calibration_inputs"][:200], hidden, shape)
            record["reconstructions"] = _save_images(
                out, f"cleanroom/model_{index}_reconstructions.npy", rebuilt)
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def _save_images(out: Path, relative: str, images: np.ndarray) -> str:
    """Images on 0..1 as 8-bit pixels: a quarter of the bytes, within 0.002 of each value."""
    save_npy(out / relative, np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8))
    return relative


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    out = Path(job["out_dir"])
    inputs = {name: np.load(path, allow_pickle=False) for name, path in job["inputs"].items()}
    if job.get("generation"):
        save_json(out / "cleanroom.json", {"models": [
            generate(model, inputs, job["generation"], out) for model in job["models"]]})
        return
    horizon = job.get("horizon")
    pixels = tuple(int(v) for v in job["pixels"]) if job.get("pixels") else None
    records = [evaluate(model, inputs, out, None if horizon is None else int(horizon), pixels)
               for model in job["models"]]
    save_json(out / "cleanroom.json", {"models": records})


if __name__ == "__main__":
    main(sys.argv[1])
