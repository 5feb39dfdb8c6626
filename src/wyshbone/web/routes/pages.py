"""The page: one server-rendered document; a little plain JavaScript drives the API and the event stream."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wyshbone.web.deps import SessionDep

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, session_id: SessionDep) -> HTMLResponse:
    """Goal → plan → approve → live progress → leads, for this browser's session (a cookie)."""
    return TEMPLATES.TemplateResponse(request, "index.html", {})
