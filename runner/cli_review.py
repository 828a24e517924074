"""`nngrade review`: serve the pages where the instructor grades written answers."""

from __future__ import annotations

import getpass
import ipaddress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from runner.cli_language import help_text
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.i18n.render import Translator

console = Console()


def is_loopback(host: str) -> bool:
    """Only this machine can reach ``host``: a name for the loopback, or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def review(
    out: Annotated[Path, typer.Argument(metavar="CLASS_OUT", help=help_text(
        "cli.help.review.out"))],
    host: Annotated[str, typer.Option(help=help_text("cli.help.review.host"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help=help_text(
        "cli.help.review.port"))] = 8765,
    secret: Annotated[str | None, typer.Option(envvar="NNGRADE_REVIEW_SECRET", help=help_text(
        "cli.help.review.secret"))] = None,
    grader: Annotated[str | None, typer.Option(help=help_text("cli.help.review.grader"))] = None,
    db: Annotated[str | None, typer.Option(help=help_text("cli.help.review.db"))] = None,
) -> None:
    """Grade written answers in the browser, one question at a time."""
    if not is_loopback(host) and not secret:
        raise NngradeError(msg("error.review.no_secret", host=host),
                           hint=msg("error.review.no_secret.hint"))
    import uvicorn  # here, not at the top: every other command starts without the web stack

    from runner.review.app import ReviewSettings, create_app

    app = create_app(ReviewSettings(out_dir=out, grader=grader or getpass.getuser(),
                                    secret=secret, gradebook=db))
    t = Translator(app.state.klass.info.language)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?secret={secret}" if secret else "")
    console.print(t("cli.review.serving", url=url), markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
