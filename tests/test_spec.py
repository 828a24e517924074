"""Assignment specs: the shipped ones load, broken ones fail with file, field and line."""

from __future__ import annotations

import re

import pytest

from runner import assignments
from runner.errors import SpecError, UnknownAssignment
from runner.paths import ProjectPaths


def _spec_path(paths: ProjectPaths, assignment_id: str = "fashion_mnist_cnn"):
    return paths.assignments / assignment_id / "assignment.yaml"


def _replace(paths: ProjectPaths, old: str, new: str) -> None:
    path = _spec_path(paths)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_shipped_assignments_load_with_full_marks_of_ten():
    for assignment_id in assignments.available():
        loaded = assignments.load(assignment_id)
        assert loaded.spec.max_score == 10
        assert loaded.task_text.strip()
        assert set(loaded.check_params) == {c.id for c in loaded.spec.checks}


def test_unknown_assignment_suggests_the_closest_id():
    with pytest.raises(UnknownAssignment) as raised:
        assignments.load("fashion_mnist")
    assert "fashion_mnist_cnn" in raised.value.hint


def test_bad_threshold_names_file_field_and_line(project_copy):
    _replace(project_copy, "floor: 0.80", "floor: 0.95")
    with pytest.raises(SpecError) as raised:
        assignments.load("fashion_mnist_cnn", project_copy)
    message = raised.value.message
    assert str(_spec_path(project_copy)) in message
    assert "checks[2].params" in message
    assert "floor (0.95) must be below target (0.89)" in message
    # The error belongs to the params mapping as a whole: its line is the mapping's first.
    line = int(re.search(r"\(line (\d+)\)", message).group(1))
    lines = _spec_path(project_copy).read_text().splitlines()
    assert lines[line - 1].strip() == "metric: accuracy"


def test_unknown_check_kind_lists_the_known_ones(project_copy):
    _replace(project_copy, "kind: mlp_baseline", "kind: mlp_baselin")
    with pytest.raises(SpecError) as raised:
        assignments.load("fashion_mnist_cnn", project_copy)
    assert "unknown check kind 'mlp_baselin'" in raised.value.message
    assert "mlp_baseline" in raised.value.message


def test_missing_required_field_and_typo_in_field_name(project_copy):
    _replace(project_copy, "points: 3\n", "pionts: 3\n")
    with pytest.raises(SpecError) as raised:
        assignments.load("fashion_mnist_cnn", project_copy)
    assert "checks[2].points" in raised.value.message
    assert "checks[2].pionts" in raised.value.message


def test_cell_limit_above_total_is_rejected(project_copy):
    _replace(project_copy, "cell_seconds: 1800", "cell_seconds: 99999")
    with pytest.raises(SpecError, match=r"limits \(line \d+\): .*exceeds total_seconds"):
        assignments.load("fashion_mnist_cnn", project_copy)


def test_invalid_yaml_reports_the_line(project_copy):
    _replace(project_copy, "checks:\n", "checks: [\n")
    with pytest.raises(SpecError, match=r"line \d+: not valid YAML"):
        assignments.load("fashion_mnist_cnn", project_copy)


def test_expected_values_must_come_from_grader_code(project_copy):
    path = _spec_path(project_copy, "autograd_derivative")
    path.write_text(path.read_text().replace("graders.autograd_derivative:df", "os:system"))
    with pytest.raises(SpecError, match=r"must look like 'graders\.module:function'"):
        assignments.load("autograd_derivative", project_copy)


def test_folder_and_id_must_agree(project_copy):
    _replace(project_copy, "id: fashion_mnist_cnn", "id: other_id")
    with pytest.raises(SpecError, match="id: is 'other_id' but the folder is"):
        assignments.load("fashion_mnist_cnn", project_copy)
