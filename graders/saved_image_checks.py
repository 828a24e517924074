"""The notebook saved an image as a file, as homework asks ("приложите лучшее
сгенерированное изображение"): the report shows it, redrawn by the host.

Whether the image is good is not judged here (the samples the grader draws itself are);
this check only says the file is there and readable, and names it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from graders.context import GradingContext
from graders.registry import Verdict, check_kind
from runner.i18n.message import msg


class SavedImageParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(1, ge=1, le=8, description="Images the notebook must save (PNG or "
                       "JPEG, in its working folder or a folder below it).")


@check_kind("saved_image", SavedImageParams)
def saved_image_check(params: SavedImageParams, ctx: GradingContext) -> Verdict:
    """At least ``count`` readable images were saved during the run."""
    names = list(ctx.saved_images)
    if len(names) >= params.count:
        return Verdict.passed(msg("check.saved_image.found", names=names[:8]))
    if names:
        return Verdict.failed(msg("check.saved_image.too_few", names=names,
                                  count=params.count))
    return Verdict.failed(msg("check.saved_image.none"))
