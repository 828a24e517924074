"""Instruments nngrade measures with, built here: never taken from the sandbox."""
