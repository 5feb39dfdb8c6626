"""The single tool layer: the registry, ``run_lead_tool``, and one module per tool."""

from wyshbone.tools.registry import Provider, ToolFunc, ToolRegistry, ToolSpec, run_lead_tool

__all__ = ["Provider", "ToolFunc", "ToolRegistry", "ToolSpec", "run_lead_tool"]
