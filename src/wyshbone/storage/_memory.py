"""What the in-memory repositories are made of: a table of rows under serial ids, as the database keeps them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
"""A row as the database holds it: column → value (times as their stored text)."""


@dataclass
class Table:
    """Rows under a serial ``id`` (1, 2, …, never reused), in the order they were inserted."""

    rows: dict[int, Row] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def insert(self, row: Row) -> int:
        """Add ``row`` under the next id; returns the id."""
        new = next(self._ids)
        self.rows[new] = {"id": new} | row
        return new

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)

    def where(self, **equal: Any) -> list[Row]:
        """The rows whose columns equal ``equal``, oldest first."""
        return [row for row in self.rows.values() if all(row[k] == v for k, v in equal.items())]

    def first(self, **equal: Any) -> Row | None:
        return next(iter(self.where(**equal)), None)

    def insert_once(self, *, plan_id: str, step_id: str, values: Row) -> tuple[int, bool]:
        """The id of the row for this plan step, inserting it with ``values`` when there is none; and whether it
        was inserted now (as ``_sql.insert_once`` does in the database)."""
        found = self.first(plan_id=plan_id, step_id=step_id)
        if found is not None:
            return found["id"], False
        return self.insert({"plan_id": plan_id, "step_id": step_id} | values), True

    def delete(self, **equal: Any) -> None:
        for row in self.where(**equal):
            del self.rows[row["id"]]
