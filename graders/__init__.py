"""Grading logic: generic checks and per-assignment modules.

Every module in this package is imported by :func:`graders.registry.kinds`,
so a new assignment's checks are found by dropping a module here.
"""
