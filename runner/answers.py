"""Find a student's written answers in a notebook, the way students really write them.

A rubric item's answer is looked for in three kinds of place (``AnswerPlace``): cells
tagged for it; a heading that names it, whatever its level, or the same words as a bold
line, a line of their own or a code comment; the question's own wording, pasted from
the task. The answer is the text after that place, in the same cell and the cells that
follow, up to the next heading or the next item's place. Markdown and raw cells give
their text; a code cell its comments when the place is in it ("# Выводы: ..."), its
outputs (shown beside the answer) otherwise.

A notebook often quotes the task before answering it, so a place can be found more
than once; the last one followed by text wins. What is found says how it was found,
so the instructor (and the student, in ``nngrade check``) sees why an answer was or was
not picked up.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import nbformat

from runner.spec import RubricItem

FoundBy = Literal["tag", "heading", "question"]
MAX_CELLS = 20  # an answer region never runs past this many cells
MAX_CHARS = 20_000  # of answer text kept; the rest is cut with a mark
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*[:.]?\s*$")
_COMMENT = re.compile(r"^\s*#+\s?(.*)$")
_LEAD_BOLD = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*[:.—-]?\s*(.*)$")  # "**Вывод:** текст"


@dataclass(frozen=True)
class Answer:
    """One rubric item's answer as found in one notebook."""

    item: str
    text: str = ""
    found_by: FoundBy | None = None  # None: no place for the answer was found
    cells: tuple[int, ...] = ()  # indices of the cells the answer spans
    context: tuple[int, ...] = field(default=())  # code cells whose outputs it refers to

    @property
    def found(self) -> bool:
        return bool(self.text.strip())

    @property
    def sha256(self) -> str:
        """Of the text with whitespace collapsed: re-running a notebook keeps it."""
        return hashlib.sha256(" ".join(self.text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class _Line:
    cell: int
    text: str  # without comment marks for a code cell
    level: int | None  # a markdown heading's level; 7 for a bold line; None for text


def find_answers(notebook: nbformat.NotebookNode, items: list[RubricItem]) -> list[Answer]:
    """Each item's answer in ``notebook``, in the rubric's order."""
    lines = _lines(notebook)
    anchors = {item.id: _anchors(notebook, lines, item) for item in items}
    starts = {(a.cell, a.line) for found in anchors.values() for a in found}
    return [_answer(notebook, lines, item, anchors[item.id], starts) for item in items]


def normalise(text: str) -> str:
    """Lower case, ё as е, no markup or punctuation, single spaces: how places are compared."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class _Anchor:
    cell: int
    line: int  # index in the flat line list where the answer starts (after the place)
    level: int  # the place's heading level; 7 for anything that is not a heading
    found_by: FoundBy
    whole_cell: bool = False  # a tagged cell: the cell itself is the answer
    same_line: str = ""  # the answer's start on the place's own line ("Выводы: ...")


def _lines(notebook: nbformat.NotebookNode) -> list[_Line]:
    out: list[_Line] = []
    for index, cell in enumerate(notebook.cells):
        source = cell.get("source", "")
        if cell.cell_type == "code":
            for raw in source.splitlines():
                comment = _COMMENT.match(raw)
                if comment and not raw.lstrip().startswith("#!"):
                    out.append(_Line(index, comment.group(1), None))
            continue
        for raw in source.splitlines():
            heading = _HEADING.match(raw) if cell.cell_type == "markdown" else None
            bold = _BOLD.match(raw)
            level = (len(heading.group(1)) if heading else 7 if bold else None)
            out.append(_Line(index, raw, level))
    return out


def _anchors(notebook: nbformat.NotebookNode, lines: list[_Line],
             item: RubricItem) -> list[_Anchor]:
    tag = item.answer.tag or item.id
    tagged = [i for i, cell in enumerate(notebook.cells)
              if tag in cell.get("metadata", {}).get("tags", [])]
    if tagged:
        first = next((n for n, line in enumerate(lines) if line.cell == tagged[0]), len(lines))
        return [_Anchor(tagged[0], first, 0, "tag", whole_cell=True)]
    headings = [normalise(h) for h in item.answer.headings if normalise(h)]
    questions = _question_texts(item)
    found: list[_Anchor] = []
    for n, line in enumerate(lines):
        plain = normalise(_strip_markup(line.text))
        if not plain:
            continue
        lead = _LEAD_BOLD.match(line.text) if line.level is None else None
        if headings and lead and any(_words_in(h, normalise(lead.group(2))) for h in headings):
            found.append(_Anchor(line.cell, n + 1, 7, "heading", same_line=lead.group(3)))
        elif headings and _is_place(line, plain, headings):
            found.append(_Anchor(line.cell, n + 1, line.level or 7, "heading",
                                 same_line=_after_colon(line.text)))
        elif questions and any(q in plain for q in questions):
            found.append(_Anchor(line.cell, n + 1, line.level or 7, "question",
                                 same_line=_after_colon(line.text, after="?")))
    return found


def _after_colon(text: str, after: str = ":") -> str:
    """What follows the place on its own line: "Выводы: окно 12" gives "окно 12"; after a
    question, what follows its last question mark."""
    head, mark, rest = text.rpartition(after) if after == "?" else text.partition(after)
    return rest.strip().strip("*_").strip() if mark and head.strip() else ""


def _words_in(words: str, text: str) -> bool:
    """``words`` in ``text`` as whole words: "вывод" is in "общий вывод", not in "выводим"."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def _is_place(line: _Line, plain: str, headings: list[str]) -> bool:
    """A heading or bold line naming the answer, or a short line (a code comment) that
    starts with its name: "Выводы:", "# Анализ результатов"."""
    if line.level is not None:
        return any(_words_in(h, plain) for h in headings)
    return len(plain) <= 80 and any(
        re.match(rf"{re.escape(h)}(?!\w)", plain) for h in headings)


def _question_texts(item: RubricItem) -> list[str]:
    """The question's wording in each language, and its first sentence alone."""
    texts = item.question.values() if isinstance(item.question, dict) else [item.question]
    out = []
    for text in texts:
        out.append(normalise(text))
        first = re.split(r"(?<=[?.!])\s", text.strip(), maxsplit=1)[0]
        out.append(normalise(first))
    return [t for t in dict.fromkeys(out) if len(t) >= 12]


def _strip_markup(text: str) -> str:
    heading = _HEADING.match(text)
    if heading:
        text = heading.group(2)
    return re.sub(r"[*_`>#]+", " ", text)


def _answer(notebook: nbformat.NotebookNode, lines: list[_Line], item: RubricItem,
            anchors: list[_Anchor], starts: set[tuple[int, int]]) -> Answer:
    if not anchors:
        return Answer(item.id)
    chosen = None
    for anchor in anchors:
        text, cells = _region(notebook, lines, anchor, starts)
        if text.strip() or chosen is None:
            chosen = (anchor, text, cells)
    anchor, text, cells = chosen
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n[…]"
    return Answer(item.id, text.strip(), anchor.found_by, tuple(cells),
                  _context(notebook, cells, anchor.cell, item.context_cells))


def _region(notebook: nbformat.NotebookNode, lines: list[_Line], anchor: _Anchor,
            starts: set[tuple[int, int]]) -> tuple[str, list[int]]:
    """The answer's text from ``anchor`` on, and the cells it spans."""
    if anchor.whole_cell:
        cell = notebook.cells[anchor.cell]
        own = [line.text for line in lines if line.cell == anchor.cell]
        text = "\n".join(own) if cell.cell_type == "code" else cell.get("source", "")
        return text, [anchor.cell]
    texts: list[str] = [anchor.same_line] if anchor.same_line else []
    last_cell = min(anchor.cell + MAX_CELLS, len(notebook.cells) - 1)
    end = last_cell  # the last cell of the region
    for n in range(anchor.line, len(lines)):
        line = lines[n]
        stop = (line.cell > last_cell
                or (line.level is not None and line.level <= anchor.level)
                or any(cell == line.cell and start == n + 1 for cell, start in starts)
                # a pasted question is answered right under it, before the next code
                or (anchor.found_by == "question" and line.cell != anchor.cell
                    and notebook.cells[line.cell].cell_type == "code"))
        if stop:
            has_text = n > anchor.line and lines[n - 1].cell == line.cell
            end = line.cell if line.cell == anchor.cell or has_text else line.cell - 1
            break
        if line.cell == anchor.cell or notebook.cells[line.cell].cell_type != "code":
            texts.append(line.text)  # comments count only in the cell that names the answer
    if anchor.found_by == "question":
        code = [i for i in range(anchor.cell + 1, end + 1)
                if notebook.cells[i].cell_type == "code"]
        end = min(end, code[0] - 1) if code else end
    return "\n".join(texts), list(range(anchor.cell, max(anchor.cell, end) + 1))


def _context(notebook: nbformat.NotebookNode, cells: list[int], anchor: int,
             count: int) -> tuple[int, ...]:
    """Code cells the answer refers to, whose outputs the review shows: its own, else the
    nearest before it. Read from the notebook as submitted, before it runs, so chosen by
    their code, not by their outputs."""
    own = [i for i in cells if _is_code(notebook.cells[i])]
    if own:
        return tuple(own)
    before = [i for i in range(anchor - 1, -1, -1) if _is_code(notebook.cells[i])]
    return tuple(sorted(before[:count]))


def _is_code(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(str(cell.get("source", "")).strip())
