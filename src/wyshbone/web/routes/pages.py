"""The page: one server-rendered document; a little plain JavaScript drives the API and the event stream."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.errors import InputError
from wyshbone.signing import OPT_OUT_PATH
from wyshbone.web.deps import OutreachDep, SessionDep

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
router = APIRouter(include_in_schema=False)

QUALIFIER_LABELS = {key: qualifier.label for key, qualifier in QUALIFIERS.items()}
"""Qualifier key → the word the page shows ("dog_friendly" → "dog-friendly"); the page reads typed words back."""


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, session_id: SessionDep) -> HTMLResponse:
    """Goal → plan → approve → live progress → leads, for this browser's session (a cookie)."""
    return TEMPLATES.TemplateResponse(request, "index.html", {"qualifiers": QUALIFIER_LABELS})


@router.get(OPT_OUT_PATH + "{token}", response_class=HTMLResponse)
async def opt_out_page(request: Request, token: str, outreach: OutreachDep) -> HTMLResponse:
    """The link in every message's footer: asks to confirm (a link scanner's visit must not opt anyone out)."""
    try:
        _, email = outreach.links.read(token)
    except InputError as exc:
        return _refused(request, exc)
    return TEMPLATES.TemplateResponse(request, "opt_out.html", {"state": "confirm", "email": email})


@router.post(OPT_OUT_PATH + "{token}", response_class=HTMLResponse)
async def opt_out(request: Request, token: str, outreach: OutreachDep) -> HTMLResponse:
    """The confirmation, and RFC 8058 one-click unsubscribe (mail programs POST ``List-Unsubscribe=One-Click``)."""
    try:
        email = await outreach.opt_out(token)
    except InputError as exc:
        return _refused(request, exc)
    return TEMPLATES.TemplateResponse(request, "opt_out.html", {"state": "done", "email": email})


def _refused(request: Request, exc: InputError) -> HTMLResponse:
    context = {"state": "invalid", "detail": exc.message}
    return TEMPLATES.TemplateResponse(request, "opt_out.html", context, status_code=400)
