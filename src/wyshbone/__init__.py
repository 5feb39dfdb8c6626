"""Wyshbone Supervisor: a sales goal in plain words → an approved plan → executed steps → a lead list."""

__version__ = "0.1.0"
