"""Flag pairs of submissions whose code is suspiciously alike, for a human to judge.

A teacher grading a class wants to know which notebooks to compare by eye; this module only
ranks pairs by how much code they share, it never decides that anyone copied (the same
short idiom, a hint given in class or a shared tutorial are innocent reasons for overlap).

It is robust to the usual disguises of a copy:

- names do not matter: identifiers become ``V``, numbers ``N`` and strings ``S``, comments
  and layout are dropped, so renaming variables, rewording comments, re-indenting or changing
  constants leaves the token stream unchanged; keywords, builtins, operators and library
  attribute names (``.Conv2d``, ``.fit``) are kept, because a copier cannot rename them and an
  independent solution tends to pick other ones (the student's own attributes and methods,
  ``self.conv1 = …`` or ``def forward``, become ``V`` even after a dot);
- order of cells does not matter: each cell is fingerprinted on its own and the sets are
  united;
- only fragments matter: winnowing (Schleimer, Wilkerson, Aiken 2003) keeps a few hashes of
  k-token fragments, so inserting or deleting code elsewhere leaves the rest matching;
- starter code does not count: fingerprints in more than half of the class are dropped
  (so a solution copied by more than half of the class would be missed too).
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

from runner.notebook import MAX_NOTEBOOK_BYTES

K = 12
"""Tokens per fragment. About one statement and a half (``loss = criterion(model(x), y)`` is
11 tokens): short enough to catch a copied loop, long enough that one common line shared by
independent solutions is not a match on its own."""

WINDOW = 8
"""Fragments per winnowing window: every shared run of ``K + WINDOW - 1 = 19`` tokens (two or
three lines) is guaranteed to give a shared fingerprint, and about ``2 / (WINDOW + 1)`` of the
fragments are kept."""

CELL_MARKER = "# %% cell"
"""The line between two cells in :func:`notebook_code` (a comment, so the code stays Python)."""

BOILERPLATE_SHARE = 0.5
"""A fingerprint in more than this share of the submissions is starter code, ignored…"""

BOILERPLATE_MIN_SUBMISSIONS = 4
"""…when there are at least this many submissions (with two or three, nothing is common)."""

_BUILTINS = frozenset(dir(builtins))
_SKIPPED = {tokenize.COMMENT, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
# Python 3.12+ splits f-strings (3.14: t-strings) into several tokens; one literal is one "S".
_STRING_STARTS = {getattr(tokenize, name) for name in ("FSTRING_START", "TSTRING_START")
                  if hasattr(tokenize, name)}
_STRING_ENDS = {getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END")
                if hasattr(tokenize, name)}
_FALLBACK = re.compile(r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>(?:[rRbBuUfFtT]{1,2})?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"
                                        |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    | (?P<number>0[xXoObB][\da-fA-F_]+
                 |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?)
    | (?P<name>[^\W\d]\w*)
    | (?P<op>\*\*=?|//=?|->|<<=?|>>=?|:=|\.\.\.|[<>=!]=|[-+*/%&|^@]=|\S)
""", re.VERBOSE)
_ASSIGNMENTS = {"=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^=",
                ">>=", "<<="}


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code shares many fingerprints."""

    first: str  # student id (first < second, alphabetical)
    second: str
    score: float  # 0..1: Jaccard similarity of the two fingerprint sets, boilerplate dropped
    shared_fingerprints: int


def notebook_code(path: Path) -> str:
    """Code of all code cells, cells separated by a :data:`CELL_MARKER` line.

    Lines starting with ``!`` or ``%`` (shell commands, magics) are dropped. Returns ``''``
    for a notebook it cannot read (never raises): over :data:`MAX_NOTEBOOK_BYTES`, not
    UTF-8 JSON, nested too deeply, not a notebook; a broken file is someone else's report.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)
        if len(data) > MAX_NOTEBOOK_BYTES:
            return ""
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    except Exception:  # OSError, RecursionError; nbformat and json raise many unrelated types
        return ""
    kept = []
    for source in cells:
        if not isinstance(source, str):
            continue
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))]
        kept.append("\n".join(lines))
    return f"\n{CELL_MARKER}\n".join(kept)


def fingerprints(code: str, k: int = K, window: int = WINDOW) -> set[int]:
    """Winnowed hashes of the k-token fragments of each cell of ``code``, united.

    A cell of fewer than ``k`` tokens gives none; one of fewer than ``k + window - 1`` tokens
    gives its smallest fragment hash, so a short cell still counts.
    """
    cells = [list(_raw_tokens(cell)) for cell in _split_cells(code)]
    defined = {name for tokens in cells for name in _defined_names(tokens)}
    result: set[int] = set()
    for tokens in cells:
        normalised = _normalised(tokens, defined)
        hashes = [_hash(normalised[i:i + k]) for i in range(len(normalised) - k + 1)]
        result |= _winnow(hashes, window)
    return result


def similar_pairs(codes: dict[str, str], threshold: float = 0.6) -> list[SimilarPair]:
    """Pairs of students scoring at least ``threshold``, highest score first.

    ``codes`` maps a student id to their code (see :func:`notebook_code`). Boilerplate is
    counted among the submissions that have any fingerprints, so empty ones do not dilute it.
    """
    sets = {student: fingerprints(code) for student, code in codes.items()}
    sets = {student: prints for student, prints in sets.items() if prints}
    if len(sets) >= BOILERPLATE_MIN_SUBMISSIONS:
        frequency = Counter(hash_ for prints in sets.values() for hash_ in prints)
        common = {hash_ for hash_, count in frequency.items()
                  if count > BOILERPLATE_SHARE * len(sets)}
        sets = {student: prints - common for student, prints in sets.items()}
        sets = {student: prints for student, prints in sets.items() if prints}
    index: dict[int, list[str]] = {}
    for student, prints in sets.items():
        for hash_ in prints:
            index.setdefault(hash_, []).append(student)
    pairs = []
    for first, prints in sets.items():
        candidates: set[str] = set()
        for hash_ in prints:
            candidates.update(index[hash_])
        for second in candidates:
            if second <= first:  # each pair once, and never a student with themself
                continue
            other = sets[second]
            if min(len(prints), len(other)) < threshold * max(len(prints), len(other)):
                continue  # Jaccard ≤ smaller / larger: cannot reach the threshold
            shared = len(prints & other)
            score = shared / (len(prints) + len(other) - shared)
            if score >= threshold:
                pairs.append(SimilarPair(first, second, score, shared))
    pairs.sort(key=lambda pair: (-pair.score, pair.first, pair.second))
    return pairs


def _split_cells(code: str) -> list[str]:
    cells, current = [], []
    for line in code.splitlines():
        if line.strip() == CELL_MARKER:
            cells.append("\n".join(current))
            current = []
        else:
            current.append(line)
    cells.append("\n".join(current))
    return [cell for cell in cells if cell.strip()]


def _raw_tokens(cell: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` pairs, kind one of name/number/string/op; comments and layout dropped."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(cell + "\n").readline))
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        yield from _fallback_tokens(cell)
        return
    depth = 0  # inside a 3.12+ f-string: its parts are one string literal
    for token in tokens:
        if token.type in _STRING_STARTS:
            depth += 1
            if depth == 1:
                yield "string", token.string
        elif token.type in _STRING_ENDS:
            depth -= 1
        elif depth or token.type in _SKIPPED or not token.string.strip():
            continue
        elif token.type == tokenize.NAME:
            yield "name", token.string
        elif token.type == tokenize.NUMBER:
            yield "number", token.string
        elif token.type == tokenize.STRING:
            yield "string", token.string
        else:  # OP, or ERRORTOKEN for a stray character
            yield "op", token.string


def _fallback_tokens(cell: str) -> Iterator[tuple[str, str]]:
    for match in _FALLBACK.finditer(cell):
        if match.lastgroup != "comment":
            yield match.lastgroup or "op", match.group()


def _defined_names(tokens: list[tuple[str, str]]) -> set[str]:
    """Names the code itself defines after ``def``/``class`` or assigns as ``.attribute =``.

    These are the student's own (``self.conv1``, ``model.train_step``), so a copier can rename
    them: they become ``V`` even after a dot, where library names are kept.
    """
    names = set()
    for i, (kind, text) in enumerate(tokens):
        if kind != "name" or i == 0:
            continue
        before = tokens[i - 1][1]
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if before in ("def", "class") or (before == "." and after in _ASSIGNMENTS):
            names.add(text)
    return names


def _normalised(tokens: list[tuple[str, str]], defined: set[str]) -> list[str]:
    """``V`` for the student's names, ``N`` for numbers, ``S`` for strings; the rest as is."""
    out: list[str] = []
    for kind, text in tokens:
        if kind == "number":
            out.append("N")
        elif kind == "string":
            out.append("S")
        elif kind != "name" or keyword.iskeyword(text):
            out.append(text)
        elif text in defined:
            out.append("V")  # the student's own, even if it shadows a builtin or follows a dot
        elif text in _BUILTINS or (out and out[-1] == "."):
            out.append(text)  # `len`, `range`; a library attribute: `.Conv2d`, `.zero_grad`
        else:
            out.append("V")
    return out


def _hash(tokens: list[str]) -> int:
    """A stable 64-bit hash (``hash()`` of a str changes from one process to the next)."""
    return int.from_bytes(hashlib.blake2b(" ".join(tokens).encode(), digest_size=8).digest())


def _winnow(hashes: list[int], window: int) -> set[int]:
    """The minimum of each window of ``window`` consecutive hashes (a set: positions unused)."""
    if not hashes:
        return set()
    if len(hashes) <= window:
        return {min(hashes)}
    return {min(hashes[start:start + window]) for start in range(len(hashes) - window + 1)}
