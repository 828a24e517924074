"""`nngrade review` in a real browser: headless Chromium (Debian's, driven by Playwright)
grades two students' written answers by keyboard against a real server and gradebook,
reloads, and finds the grades kept; a student's `<script>`, `javascript:` link and HTML
output do nothing; on an address other than the loopback the server will not start
without a secret, and refuses every request that lacks it."""

from __future__ import annotations

import contextlib
import csv
import io
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from runner.review.app import ReviewSettings, create_app
from tests.chromium import needs_chromium
from tests.review_class import HOSTILE_ANSWER, make_class, student_notebook
from tests.test_cli_errors import nngrade

pytestmark = needs_chromium


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(out: Path, *, host: str = "127.0.0.1", secret: str | None = None,
            grader: str = "Анна Петровна") -> Iterator[str]:
    """The review app on a real uvicorn server in a thread; yields its base URL."""
    port = _free_port()
    app = create_app(ReviewSettings(out_dir=out, grader=grader, secret=secret))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def klass(tmp_path):
    make_class(tmp_path, {
        "ivanov": student_notebook("RMSE 25 на скрытых месяцах; помогли разности к прошлому "
                                   "году и окно 12."),
        "petrova": student_notebook("Окно 24 и 300 эпох; ошибка упала с 60 до 35.",
                                    heading="**Анализ**"),
        "sidorov": student_notebook(HOSTILE_ANSWER)})
    return tmp_path


def _grades_csv(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(
        io.StringIO((out / "grades.csv").read_text()))}


def test_two_answers_graded_by_keyboard_are_kept_after_a_reload(browser, klass):
    page = browser.new_page()
    with serving(klass) as url:
        page.goto(url + "/")
        assert page.locator("#item-result").inner_text().count("ждут проверки: 3") == 1
        page.keyboard.press("Tab")  # the first link: "Проверять"
        page.keyboard.press("Enter")
        page.wait_for_url("**/review?item=result&student=ivanov")
        assert "разности к прошлому году" in page.locator("#answer").inner_text()
        assert page.locator("img.output").count() == 1  # the plot before the answer, redrawn
        page.keyboard.press("1")  # the first level: 3 points
        assert page.locator("#points").input_value() == "3"
        page.locator("#comment").fill("Есть сравнение опытов.")
        page.keyboard.press("Control+Enter")
        page.wait_for_url("**student=petrova**")
        assert "ivanov" in page.locator("#saved").inner_text()
        assert "Окно 24" in page.locator("#answer").inner_text()
        page.keyboard.press("2")  # 2 points
        page.locator("#reuse").select_option("Есть сравнение опытов.")
        page.locator("#points").focus()
        page.keyboard.press("Enter")  # Enter in the points field saves too
        page.wait_for_url("**student=sidorov**")

        page.goto(url + "/review?item=result&student=ivanov")
        page.reload()
        assert page.locator("input[name=level][value='0']").is_checked()
        assert page.locator("#comment").input_value() == "Есть сравнение опытов."
        assert "Анна Петровна" in page.locator("#graded-by").inner_text()
        page.goto(url + "/review?item=result&student=petrova")
        assert page.locator("#points").input_value() == "2"
        assert page.locator("#comment").input_value() == "Есть сравнение опытов."
        page.keyboard.press("ArrowLeft")
        page.wait_for_url("**student=ivanov**")
    rows = _grades_csv(klass)
    assert (rows["ivanov"]["result"], rows["ivanov"]["score"]) == ("3", "11")
    assert (rows["petrova"]["result"], rows["petrova"]["needs_review"]) == ("2", "")
    assert rows["sidorov"]["needs_review"] == "result"
    assert "ivanov" in (klass / "summary.html").read_text()  # redrawn when the server stops


def test_a_students_script_link_and_html_output_do_nothing(browser, klass):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with serving(klass) as url:
        page.goto(url + "/review?item=result&student=sidorov")
        assert page.title() != "pwned"
        shown = page.locator("#answer").inner_text()
        assert "<script>" in shown and "javascript:" in shown  # shown as the text it is
        assert page.locator("#answer a, #answer script, #answer img").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        assert page.locator("iframe, object, embed").count() == 0
        assert "text/html" in page.content()  # the HTML output named, not shown
        page.keyboard.press("1")
        page.keyboard.press("Control+Enter")
        page.wait_for_load_state()
        assert page.title() != "pwned" and not dialogs


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _outside_address() -> str:
    """An address of this machine that is not the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address but the loopback")
    return address


def test_on_another_address_a_secret_is_required_to_start_and_for_every_request(
        browser, klass):
    refused = nngrade("review", str(klass), "--host", "0.0.0.0")
    assert refused.returncode != 0 and "--secret" in refused.stderr
    assert "0.0.0.0" in refused.stderr
    host = _outside_address()
    with serving(klass, host=host, secret="s3cret-long-enough") as url:
        assert _status(url + "/") == 403
        assert _status(url + "/review?item=result&student=ivanov") == 403
        assert _status(url + "/", {"Authorization": "Bearer wrong"}) == 403
        assert _status(url + "/", {"Authorization": "Bearer s3cret-long-enough"}) == 200
        page = browser.new_page()
        page.goto(url + "/?secret=s3cret-long-enough")
        assert "secret" not in page.url  # moved into an HttpOnly cookie
        page.goto(url + "/review?item=result&student=ivanov")
        assert "разности" in page.locator("#answer").inner_text()
