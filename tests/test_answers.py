"""Written answers found where students really put them: under a heading of any level, after
a bold line, in code comments, under the pasted question, in a tagged cell; and a clear
"nothing found" when there is no answer."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from runner.answers import find_answers, normalise
from runner.spec import AnswerPlace, RubricItem

RESULT = RubricItem(
    id="result", title={"ru": "Результат", "en": "Result"}, points=3,
    question={"ru": "Опишите, какой результата вы получили? Что помогло вам улучшить ее "
                    "точность?",
              "en": "Describe the result you got. What helped you improve its accuracy?"},
    answer=AnswerPlace(headings=["Выводы", "Анализ", "Conclusions"]))
GRADIENT = RubricItem(
    id="vanishing", title="Vanishing gradient", points=2,
    question="Предложите свои варианты решения проблемы исчезающего градиента в RNN",
    answer=AnswerPlace(headings=["Исчезающий градиент"]))


def _notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells))


def _plot(source: str = "plt.plot(history)") -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                     "text/plain": "<Figure>"})]
    return cell


def _one(notebook, item=RESULT):
    return find_answers(notebook, [item])[0]


def test_an_answer_under_a_heading_is_the_next_cells_up_to_the_next_heading():
    notebook = _notebook(
        new_code_cell("model.fit(x, y)"), _plot(),
        new_markdown_cell("## Выводы"),
        new_markdown_cell("Точность 0.91 на тесте.\n\nПомогли Dropout и BatchNorm."),
        new_markdown_cell("## Приложение"), new_markdown_cell("Не ответ."))
    answer = _one(notebook)
    assert answer.found and answer.found_by == "heading"
    assert "Точность 0.91" in answer.text and "BatchNorm" in answer.text
    assert "Не ответ" not in answer.text
    assert answer.cells == (2, 3)
    assert answer.context == (0, 1)  # the training and the plot just before it


def test_headings_of_any_level_bold_lines_and_case_are_all_places():
    for place in ["# ВЫВОДЫ", "#### выводы:", "**Выводы:**", "__Анализ результатов__",
                  "Выводы"]:
        notebook = _notebook(new_markdown_cell(f"{place}\nСеть дала MAE 21."))
        answer = _one(notebook)
        assert answer.text == "Сеть дала MAE 21.", place


def test_a_bold_lead_in_starts_the_answer_on_its_own_line():
    notebook = _notebook(new_markdown_cell("**Выводы:** окно 12 месяцев дало RMSE 22.\nЕщё помог "
                                           "MinMaxScaler."))
    assert _one(notebook).text == "окно 12 месяцев дало RMSE 22.\nЕщё помог MinMaxScaler."


def test_deeper_headings_stay_inside_the_answer_and_a_sibling_ends_it():
    notebook = _notebook(new_markdown_cell("## Выводы\n### Что помогло\nОкно 12 месяцев."),
                         new_markdown_cell("## Код"), new_markdown_cell("лишнее"))
    assert _one(notebook).text == "### Что помогло\nОкно 12 месяцев."


def test_an_answer_in_code_comments_is_read_from_the_comments():
    notebook = _notebook(new_code_cell(
        "# Выводы:\n# точность выросла до 0.9, помог Dropout\nprint(acc)"))
    answer = _one(notebook)
    assert answer.text == "точность выросла до 0.9, помог Dropout"
    assert answer.cells == (0,)


def test_an_answer_under_the_pasted_question_stops_at_the_next_code():
    notebook = _notebook(
        new_markdown_cell("1. Попробуйте обучить нейронную сеть LSTM на любом другом датасете. "
                          "Опишите, какой результата вы получили? Что помогло вам улучшить "
                          "ее точность?"),
        new_markdown_cell("Ответ: RMSE 25, помогло масштабирование."),
        new_code_cell("# загрузка данных\nimport pandas as pd"))
    answer = _one(notebook)
    assert answer.found_by == "question"
    assert answer.text == "Ответ: RMSE 25, помогло масштабирование."


def test_a_task_quoted_at_the_top_and_answered_at_the_end_gives_the_end():
    question = "Опишите, какой результата вы получили? Что помогло вам улучшить ее точность?"
    notebook = _notebook(new_markdown_cell(question), new_code_cell("train()"), _plot(),
                         new_markdown_cell(question + "\n\nЛучше всего сработал LSTM(64)."))
    answer = _one(notebook)
    assert answer.text == "Лучше всего сработал LSTM(64)."
    assert answer.cells == (3,)


def test_a_tagged_cell_is_the_answer_whatever_it_says():
    cell = new_markdown_cell("MAE 18")
    cell.metadata["tags"] = ["result"]
    answer = _one(_notebook(new_markdown_cell("## Выводы\nне здесь"), cell))
    assert (answer.found_by, answer.text, answer.cells) == ("tag", "MAE 18", (1,))


def test_two_items_in_one_notebook_each_stop_at_the_others_place():
    notebook = _notebook(new_markdown_cell("**Выводы**\nMAE 18."),
                         new_markdown_cell("**Исчезающий градиент**\nLSTM, GRU, клиппинг."))
    result, gradient = find_answers(notebook, [RESULT, GRADIENT])
    assert result.text == "MAE 18."
    assert gradient.text == "LSTM, GRU, клиппинг."


def test_nothing_found_says_so_and_an_empty_place_too():
    assert not _one(_notebook(new_code_cell("model.fit(x, y)"))).found
    assert _one(_notebook(new_code_cell("model.fit(x, y)"))).found_by is None
    empty = _one(_notebook(new_markdown_cell("## Выводы"), new_markdown_cell("## Код")))
    assert empty.found_by == "heading" and not empty.found


def test_the_answers_fingerprint_ignores_whitespace_but_not_words():
    first = _one(_notebook(new_markdown_cell("## Выводы\nMAE  18.\n")))
    again = _one(_notebook(new_markdown_cell("## Выводы\n\nMAE 18.")))
    changed = _one(_notebook(new_markdown_cell("## Выводы\nMAE 17.")))
    assert first.sha256 == again.sha256 != changed.sha256


def test_places_are_compared_without_markup_case_or_yo():
    assert normalise("**Ещё  ВЫВОДЫ:**") == normalise("еще выводы")


def test_words_that_only_begin_like_a_heading_are_not_a_place():
    """"# выводим график" is code commentary, not the conclusions."""
    notebook = _notebook(new_markdown_cell("## Выводы\nMAE 18."),
                         new_code_cell("# выводим график\nplt.plot(y)"),
                         new_code_cell("# Анализировать нечего\nprint(1)"))
    assert _one(notebook).text == "MAE 18."
