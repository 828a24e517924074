"""Images a notebook saves ("приложите лучшее сгенерированное изображение"): collected in
the sandbox when written during the run, redrawn on the host within limits, shown in the
report, and the check that asks for one."""

from __future__ import annotations

import base64
import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from graders.context import GradingContext
from graders.saved_image_checks import SavedImageParams, saved_image_check
from runner.i18n.render import render
from runner.measurements import SavedImageRecord
from runner.probe.saved_images import MAX_IMAGES, save_images
from runner.report.html import render_html
from runner.saved_images import SHOWN_SIDE, saved_images
from tests.test_report_render import autograd_report


def _png(path: Path, size: tuple[int, int] = (28, 28), value: int = 200) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size[::-1], value, np.uint8)).save(path)
    return path


def test_only_images_written_during_the_run_are_collected_newest_last(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    old = _png(work / "textured_shapes" / "images" / "00000.png")  # the grader's own
    os.utime(old, (time.time() - 60, time.time() - 60))
    since = time.time() - 30
    for number in range(MAX_IMAGES + 2):
        path = _png(work / "samples" / f"epoch_{number}.png", value=number)
        os.utime(path, (since + number, since + number))
    _png(work / "best.jpg")
    (work / "notes.txt").write_text("not an image")
    (work / "link.png").symlink_to(old)
    records = save_images(work, since, out)
    names = [record["name"] for record in records]
    assert len(names) == MAX_IMAGES and names[-1] == "best.jpg"
    assert "samples/epoch_0.png" not in names and "samples/epoch_9.png" in names
    assert not any("textured_shapes" in name or "link" in name for name in names)
    assert (out / records[-1]["file"]).read_bytes() == (work / "best.jpg").read_bytes()


def test_the_host_redraws_what_it_can_read_and_says_why_not_for_the_rest(tmp_path):
    out = tmp_path / "out"
    _png(out / "saved" / "image_0.png")
    _png(out / "saved" / "image_1.png", size=(2000, 1000))
    (out / "saved" / "image_2.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    bomb = Image.new("1", (20000, 20000))  # 400 megapixels, a few kilobytes compressed
    bomb.save(out / "saved" / "image_3.png")
    (out / "saved" / "image_4.png").symlink_to(tmp_path / "elsewhere.png")
    records = [SavedImageRecord(name=f"<b>{i}</b>.png", file=f"saved/image_{i}.png")
               for i in range(5)]
    shown, notes = saved_images(out, records)
    assert [image.name for image in shown] == ["<b>0</b>.png", "<b>1</b>.png"]
    assert (shown[1].width, shown[1].height) == (2000, 1000)
    redrawn = Image.open(io.BytesIO(base64.b64decode(shown[1].png)))
    assert max(redrawn.size) == SHOWN_SIDE
    words = [render(note, "en") for note in notes]
    assert len(words) == 3
    assert "not a readable image" in words[0] and "more than" in words[1]
    assert "not a file inside the output folder" in words[2]
    html = render_html(autograd_report().model_copy(update={"saved_images": shown}))
    assert "Images the notebook saved" in html and "&lt;b&gt;0&lt;/b&gt;.png (28×28)" in html
    assert "<b>0</b>" not in html


def test_the_check_names_the_saved_images_or_says_how_to_save_one():
    params = SavedImageParams()
    found = saved_image_check(params, GradingContext(mode="grade", saved_images=["best.png"]))
    assert found.fraction == 1 and "best.png" in render(found.message, "en")
    none = saved_image_check(params, GradingContext(mode="grade"))
    assert none.fraction == 0 and "plt.imsave('best.png'" in render(none.message, "en")
    too_few = saved_image_check(SavedImageParams(count=2),
                                GradingContext(mode="grade", saved_images=["a.png"]))
    assert too_few.fraction == 0 and "2 images are asked for" in render(too_few.message, "en")


def test_only_png_and_jpeg_are_decoded_whatever_the_name_says(tmp_path):
    out = tmp_path / "out"
    (out / "saved").mkdir(parents=True)
    Image.new("L", (8, 8)).save(out / "saved" / "image_0.png", format="BMP")
    shown, notes = saved_images(out, [SavedImageRecord(name="best.png",
                                                        file="saved/image_0.png")])
    assert shown == [] and "not a readable image" in render(notes[0], "en")
