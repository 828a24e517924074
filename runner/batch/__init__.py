"""Grading a whole class: intake, parallel runs, the gradebook and what it exports."""
