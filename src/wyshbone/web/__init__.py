"""The web service: FastAPI app factory, API routes, server-sent events."""

from wyshbone.web.app import create_app

__all__ = ["create_app"]
