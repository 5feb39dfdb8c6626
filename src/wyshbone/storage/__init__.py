"""Persistence: ``db`` runs SQL; one repository module per aggregate (plans, leads, sessions, outreach,
monitors), each a Protocol with a SQL implementation and an in-memory fake; ``tables`` and the migrations."""

from wyshbone.storage.repositories import (
    MEMORY_URL,
    Repositories,
    memory_repositories,
    open_repositories,
    sql_repositories,
)

__all__ = ["MEMORY_URL", "Repositories", "memory_repositories", "open_repositories", "sql_repositories"]
