"""The Russian report and class summary in a real browser: Cyrillic, in the page's fonts.

Headless Chromium (Debian's, driven by Playwright) opens the HTML files nngrade writes
and reports, through the DevTools protocol, which fonts it actually drew each text
with. A page that lost its encoding would show mojibake (``РџСЂРѕРІРµСЂРєРё``); a
font stack without Cyrillic glyphs would fall back to whatever font the machine has.
Both are caught here.
"""

from __future__ import annotations

import re

from runner.batch.summary import write_summary
from runner.report.write import write_report
from tests.chromium import needs_chromium
from tests.test_batch_languages import SPEC, three_students
from tests.test_report_languages import _report

pytestmark = needs_chromium
GENERIC = {"system-ui", "-apple-system", "sans-serif", "serif", "monospace", "ui-monospace"}


def _fonts_drawn(page, selector: str) -> tuple[str, list[str], list[str]]:
    """The element's text, the families its CSS names, and the fonts Chromium drew it in."""
    element = page.locator(selector).first
    text = element.inner_text()
    named = [name.strip().strip('"\'') for name in
             element.evaluate("e => getComputedStyle(e).fontFamily").split(",")]
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return text, named, [font["familyName"] for font in fonts if font["glyphCount"] > 0]


def _assert_cyrillic_in_named_fonts(page, selector: str, expected: str) -> None:
    text, named, drawn = _fonts_drawn(page, selector)
    assert expected in text
    assert re.search("[А-Яа-яЁё]", text) and not re.search("Р[ЎЃ ]|Ð|Ñ", text)  # no mojibake
    assert drawn, f"{selector}: nothing drawn"
    specific = [name for name in named if name not in GENERIC]
    assert set(drawn) <= set(specific), f"{selector}: drawn in {drawn}, page names {named}"


def test_the_russian_report_draws_cyrillic_in_the_fonts_it_names(browser, tmp_path):
    write_report(_report("ru"), tmp_path)
    page = browser.new_page()
    page.goto((tmp_path / "report.html").as_uri())
    assert page.evaluate("document.characterSet") == "UTF-8"
    assert page.evaluate("document.documentElement.lang") == "ru"
    _assert_cyrillic_in_named_fonts(page, "h1", "Fashion-MNIST: ширина и глубина CNN")
    _assert_cyrillic_in_named_fonts(page, "h2", "Проверки")
    _assert_cyrillic_in_named_fonts(page, "tr.pass td:nth-child(4)", "Найдена CNN.")
    page.close()


def test_the_russian_class_summary_draws_cyrillic_in_the_fonts_it_names(browser, tmp_path):
    path = write_summary(SPEC, three_students(), [], tmp_path, language="ru")
    page = browser.new_page()
    page.goto(path.as_uri())
    assert page.evaluate("document.characterSet") == "UTF-8"
    assert page.evaluate("document.documentElement.lang") == "ru"
    _assert_cyrillic_in_named_fonts(page, "h1", "сводка по группе")
    _assert_cyrillic_in_named_fonts(page, "th", "Проверка")
    page.close()
