"""Persistence: the tables, and the one repository module that issues queries."""

from wyshbone.storage.repository import MemoryStore, PlanStore, SqlStore, open_store

__all__ = ["MemoryStore", "PlanStore", "SqlStore", "open_store"]
