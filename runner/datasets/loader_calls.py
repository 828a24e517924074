"""Name the dataset a notebook asked for when it is not the one its assignment grades on.

The probe records which framework loaders a notebook called (``keras:cifar10``,
``torchvision:CIFAR10``). A loader of another dataset cannot work in the sandbox
(no network, and only the assignment's public split is there), and the error it
raises is a download failure that says nothing of the real mistake; these notes
say it in words, with the names the dataset files give.
"""

from __future__ import annotations

from runner.datasets.registry import DatasetSpec, registry
from runner.i18n.message import Message, msg


def _plain(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _is_loader_of(call: str, spec: DatasetSpec) -> bool:
    framework, _, name = call.partition(":")
    if framework == "keras":
        return _plain(name) in {_plain(spec.name), _plain(spec.loaders.keras or spec.name)}
    if framework == "torchvision":
        return name == spec.loaders.torchvision or _plain(name) == _plain(spec.name)
    if framework == "tfds":
        return spec.tfds is not None and name == spec.tfds.name
    return False


def _spelled(call: str) -> str:
    framework, _, name = call.partition(":")
    if framework == "tfds":
        return f"tfds.load('{name}')"
    return f"keras.datasets.{name}" if framework == "keras" else f"torchvision.datasets.{name}"


def wrong_dataset_notes(dataset: DatasetSpec, calls: list[str],
                        offered: list[str] | None = None) -> list[Message]:
    """One sentence per loader of another dataset than ``dataset`` that the notebook called.

    Keras' and tfds' loaders are each a dataset; torchvision's generic ones (ImageFolder,
    ...) are named only when they match a declared dataset. A dataset the assignment
    ``offered`` loads fine; its sentence says that models are scored on ``dataset`` only.
    """
    declared = [spec for spec in registry().values() if spec.name != dataset.name]
    notes = []
    for call in calls:
        if _is_loader_of(call, dataset):
            continue
        other = next((spec for spec in declared if _is_loader_of(call, spec)), None)
        if other is not None and other.name in (offered or []):
            notes.append(msg("note.offered_loaded", loads=f"{other.title} ({_spelled(call)})",
                             dataset=dataset.title))
            continue
        if other is None and not call.startswith(("keras:", "tfds:")):
            continue
        what = f"{other.title} ({_spelled(call)})" if other else _spelled(call)
        notes.append(msg("note.wrong_dataset", loads=what, dataset=dataset.title))
    return notes
