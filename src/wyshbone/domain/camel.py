"""The base of every model: camelCase in JSON, snake_case in Python; and the bases of a tool's params and output.

Apart from ``domain.models`` so that a tool's models (``domain.steps``) and the models that carry them can share them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["CamelModel", "StepOutput", "StepParams"]


class CamelModel(BaseModel):
    """Base: camelCase JSON names, snake_case attributes, either accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StepParams(CamelModel):
    """Base of a tool's params: what its step asks, fixed when the plan is made (``domain.steps``).

    An unknown key is an error: a plan whose step does not fit its tool is refused when it is made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def wanted_items(self) -> int | None:
        """How many items the step asks a provider for; None when it does not say (no top-up then)."""
        return None


class StepOutput(CamelModel):
    """Base of a tool's output: what its step found, stored as the step result's ``data``."""

    result_count: int | None = Field(default=None, exclude_if=lambda count: count is None)
    """How many items the provider found (``resultCount``): 0 means "try the next provider", and fewer than the
    params' ``wanted_items`` means "top up from the next one". None: the tool does not count."""
