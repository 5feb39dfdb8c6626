"""A few small-business websites served for real on 127.0.0.1, one port per site, for the contact crawler.

``running_websites()`` starts them (uvicorn in a background thread) and yields a ``FakeWebsites`` that gives
each site's URL and records every path each site was asked for.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse

HUGE_PAGE_BYTES = 2_000_000
SLOW_SECONDS = 30.0


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>A business</title></head><body>{body}</body></html>"
    )


NAV = '<nav><a href="/">Home</a> <a href="/menu">Menu</a> <a href="/contact">Contact</a></nav>'
JUNK = (
    '<img src="/img/logo@2x.png" alt="logo@2x.png">'
    '<script>Sentry.init({dsn: "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1"});'
    'var owner = "605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com";</script>'
    "<p>Write to user@example.com for a template.</p>"
)


def _mailto(path: str) -> Response | None:
    """A café with a mailto link on /contact (and junk addresses everywhere)."""
    pages = {
        "/": _page(NAV + "<h1>The Beanery</h1><p>Coffee on Deansgate.</p>" + JUNK),
        "/contact": _page(
            NAV + '<p><a href="mailto:hello@thebeanery.co.uk?subject=Hello">Email us</a></p>'
            "<p>Or hello@thebeanery.co.uk again.</p>" + JUNK
        ),
    }
    return pages.get(path)


def _obfuscated(path: str) -> Response | None:
    """An address on /about written as "name [at] domain [dot] tld" and another one as HTML entities."""
    pages = {
        "/": _page("<h1>Crumb &amp; Coffee</h1><p>See <a href='/about'>about us</a>.</p>"),
        "/about": _page(
            "<p>Bookings: bookings [at] crumbandcoffee [dot] co [dot] uk</p>"
            "<p>Jobs: &#106;obs&#64;crumbandcoffee&#46;co&#46;uk</p>"
        ),
    }
    return pages.get(path)


def _robots(path: str) -> Response | None:
    """robots.txt forbids /contact, which is where the address is."""
    pages: dict[str, Response] = {
        "/robots.txt": PlainTextResponse("User-agent: *\nDisallow: /contact\n"),
        "/": _page(NAV + "<h1>Hop House</h1>"),
        "/contact": _page('<a href="mailto:secret@hophouse.co.uk">Mail</a>'),
    }
    return pages.get(path)


def _moved(path: str) -> Response | None:
    """The home page moved twice (within the crawler's redirect limit)."""
    pages: dict[str, Response] = {
        "/": RedirectResponse("/home", status_code=301),
        "/home": RedirectResponse("/welcome", status_code=302),
        "/welcome": _page('<a href="mailto:team@moved-bakery.com">team</a>'),
    }
    return pages.get(path)


def _private_redirect(path: str) -> Response | None:
    """Redirects to a private address; a guarded crawler never connects there."""
    return RedirectResponse("http://10.0.0.1/", status_code=302) if path == "/" else None


def _metadata_redirect(path: str) -> Response | None:
    """Redirects to the cloud metadata endpoint (link-local)."""
    return (
        RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302) if path == "/" else None
    )


def _loop(path: str) -> Response | None:
    """/ → /a → /b → /a → ... for ever."""
    targets = {"/": "/a", "/a": "/b", "/b": "/a"}
    return RedirectResponse(targets[path], status_code=302) if path in targets else None


def _huge(path: str) -> Response | None:
    """A 2 MB home page: one address at the top, another past the crawler's byte cap."""
    if path != "/":
        return None

    async def body() -> AsyncIterator[bytes]:
        yield b"<html><body><p>early@hugepage.co.uk</p>"
        filler = b"<p>" + b"x" * 9_993 + b"</p>\n"
        for _ in range(HUGE_PAGE_BYTES // len(filler)):
            yield filler
        yield b"<p>late@hugepage.co.uk</p></body></html>"

    return StreamingResponse(body(), media_type="text/html")


def _pdf(path: str) -> Response | None:
    """The "website" is a PDF menu."""
    if path != "/":
        return None
    return Response(b"%PDF-1.4\n% menu: orders@pdfonly.co.uk\n", media_type="application/pdf")


def _empty(path: str) -> Response | None:
    """Pages, but no real address on any of them (junk only)."""
    pages = {
        "/": _page(NAV + "<h1>Quiet Florist</h1>" + JUNK),
        "/contact": _page("<p>Call us on 0161 000 0000.</p>"),
        "/about": _page("<p>Family run since 1990.</p>"),
    }
    return pages.get(path)


SITES: dict[str, Callable[[str], Response | None]] = {
    "mailto": _mailto,
    "obfuscated": _obfuscated,
    "robots": _robots,
    "moved": _moved,
    "private_redirect": _private_redirect,
    "metadata_redirect": _metadata_redirect,
    "loop": _loop,
    "huge": _huge,
    "slow": lambda path: None,  # handled in the app: it must wait without blocking the server
    "pdf": _pdf,
    "empty": _empty,
}


@dataclass
class FakeWebsites:
    """The running sites: ``url(name)`` to visit one, ``requests[name]`` the paths it was asked for."""

    ports: dict[str, int]
    requests: dict[str, list[str]] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/"

    def site_for_port(self, port: int) -> str:
        return next(name for name, p in self.ports.items() if p == port)


def _app(sites: FakeWebsites) -> Callable[..., object]:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        assert scope["type"] == "http"
        request = Request(scope)  # type: ignore[arg-type]
        server = scope["server"]
        assert isinstance(server, tuple)
        name = sites.site_for_port(int(server[1]))
        sites.requests.setdefault(name, []).append(request.url.path)
        response = await _respond(sites, name, request.url.path)
        await response(scope, receive, send)  # type: ignore[arg-type]

    return app


async def _respond(sites: FakeWebsites, name: str, path: str) -> Response:
    if name == "slow" and path == "/":
        await asyncio.to_thread(sites.stopping.wait, SLOW_SECONDS)  # released early when the sites stop
        return _page('<a href="mailto:late@slowsite.co.uk">too late</a>')
    response = SITES[name](path)
    return response if response is not None else PlainTextResponse("Not Found", status_code=404)


@contextmanager
def running_websites() -> Iterator[FakeWebsites]:
    """Serve every site in ``SITES`` on its own free port of 127.0.0.1 until the block ends."""
    sockets: dict[str, socket.socket] = {}
    for name in SITES:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sockets[name] = sock
    sites = FakeWebsites(ports={name: sock.getsockname()[1] for name, sock in sockets.items()})
    config = uvicorn.Config(
        _app(sites), log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": list(sockets.values())}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake websites did not start")
            time.sleep(0.01)
        yield sites
    finally:
        sites.stopping.set()
        server.should_exit = True
        thread.join(timeout=10)
        for sock in sockets.values():
            sock.close()
