"""`python -m runner` is the `nngrade` command."""

from runner.cli import main

main()
