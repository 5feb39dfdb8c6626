"""Contact discovery on a business's own website: a small, polite, SSRF-guarded crawler.

Pure parts (registrable domain, email extraction, the address guard, which pages to try) are plain functions;
``discover_contacts`` does the I/O around them: per-hop guard → robots.txt → the host's turn (politeness, held
across processes in queue mode) → one capped, timed request.
Every address found is checked and normalised (``domain.emails``) before it is returned.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import re
import socket
import urllib.robotparser
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import tldextract

from wyshbone.domain.emails import RefusedAddress, normalise_address
from wyshbone.domain.models import ContactEmail
from wyshbone.errors import InputError
from wyshbone.providers.http import USER_AGENT
from wyshbone.providers.keyed_limits import KeyedLimiter, host_key

__all__ = [
    "WebsiteContacts",
    "address_refusal",
    "candidate_pages",
    "discover_contacts",
    "extract_contacts",
    "extract_emails",
    "prefer_own_domain",
    "registrable_domain",
]

MAX_REDIRECTS = 3
GUESSED_PATHS = ("/contact", "/contact-us", "/about")
HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_TYPES: tuple[str, ...] = ()  # any: robots.txt is often served as octet-stream
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class WebsiteContacts:
    """What one website said about how to contact the business."""

    domain: str | None
    """Registrable domain of the site (after the home page's redirects); None for IP-address sites."""
    emails: list[ContactEmail] = field(default_factory=list)
    """Addresses found, own-domain ones only when there are any; source "website", "unverified"; each one
    valid, normalised address."""
    pages_fetched: list[str] = field(default_factory=list)
    """Final URLs of the HTML pages read, in order."""
    reason: str | None = None
    """Why no address was found (unreachable, refused, robots.txt...); None when some were."""
    refused: list[str] = field(default_factory=list)
    """One note per address-like text that is not a usable address ("refused address 'x' from website: ...")."""


# --- registrable domain -------------------------------------------------------------------------------


@cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot only: no HTTP fetch, and no cache directory written anywhere.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def registrable_domain(url_or_host: str) -> str | None:
    """The registrable domain ("www.foo.co.uk/contact" → "foo.co.uk"); None for IP addresses and junk."""
    text = url_or_host.strip().lower()
    if not text or any(c.isspace() for c in text):
        return None
    parts = _extractor()(text)
    if parts.ipv4 or parts.ipv6 or not parts.domain or not parts.suffix:
        return None
    return parts.top_domain_under_public_suffix or None


# --- email extraction (pure) --------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[a-z0-9][a-z0-9._+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])",
    re.I,
)
_AT = re.compile(r"\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*", re.I)
_DOT = re.compile(r"\s*[\[\(\{<]\s*dot\s*[\]\)\}>]\s*", re.I)
_IMAGE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "tif", "tiff"})
_FILE_SUFFIXES = _IMAGE_SUFFIXES | {"css", "js", "pdf", "mp4"}
"""An address-like text ending so (logo@2x.png) is a file's name, not an address."""
_PLACEHOLDER_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "domain.com", "yourdomain.com"}
)
_JUNK_DOMAINS = _PLACEHOLDER_DOMAINS | {"email.com", "sentry.io", "wixpress.com", "sentry-next.wixpress.com"}
_HEX_ID = re.compile(r"^[0-9a-f]{24,}$")


class _PageParser(HTMLParser):
    """Collects mailto targets and links (href, visible text); script and style text is ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.mailtos: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip_depth += 1
        if tag != "a":
            return
        href = (dict(attrs).get("href") or "").strip()
        if href.lower().startswith("mailto:"):
            self.mailtos.append(href[len("mailto:") :])
        self._href, self._link_text = href, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text)))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None and not self._skip_depth:
            self._link_text.append(data)


def _parse(page_html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page_html)
    parser.close()
    return parser


def _deobfuscate(text: str) -> str:
    """ "name [at] domain [dot] com" → "name@domain.com" (bracketed forms only: bare "at" is ordinary prose)."""
    return _DOT.sub(".", _AT.sub("@", text))


def _is_junk(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    if domain.rsplit(".", 1)[-1] in _FILE_SUFFIXES:
        return True  # logo@2x.png and friends
    if domain in _JUNK_DOMAINS or registrable_domain(domain) in _JUNK_DOMAINS:
        return True
    if _HEX_ID.match(local):
        return True  # error-tracker ids (Sentry, Wix)
    return registrable_domain(domain) is None or len(address) > 254


def _addresses_in(text: str) -> list[str]:
    return [m.group(0).strip(".").lower() for m in _EMAIL.finditer(_deobfuscate(text))]


def extract_contacts(page_html: str, page_url: str) -> tuple[list[ContactEmail], list[str]]:
    """Addresses on one page: ``mailto:`` links first, then plain or lightly obfuscated text; deduped, junk
    dropped, each checked and normalised; and a note for each address-like text refused, with the reason."""
    parser = _parse(page_html)
    found: list[str] = []
    for target in parser.mailtos:
        found.extend(_addresses_in(unquote(target.split("?", 1)[0])))
    # Plain addresses anywhere, attributes included (data-email="..."), entities decoded first (&#64; → @).
    found.extend(_addresses_in(html.unescape(page_html)))
    emails: list[ContactEmail] = []
    refused: list[str] = []
    for text in dict.fromkeys(found):
        if _is_junk(text):
            continue
        try:
            address = normalise_address(text)
        except InputError as exc:
            refused.append(RefusedAddress(text, exc.message).note("website"))
            continue
        if all(e.value != address for e in emails):
            emails.append(
                ContactEmail(value=address, source="website", verification="unverified", found_on=page_url)
            )
    return emails, refused


def extract_emails(page_html: str, page_url: str) -> list[ContactEmail]:
    """The addresses ``extract_contacts`` keeps."""
    return extract_contacts(page_html, page_url)[0]


def prefer_own_domain(
    emails: Iterable[ContactEmail], site_domains: Iterable[str | None]
) -> list[ContactEmail]:
    """Only the addresses on the site's own domain(s) when there are any, else all (a café's gmail is fine)."""
    own = {d for d in site_domains if d}
    unique: dict[str, ContactEmail] = {}
    for email in emails:
        unique.setdefault(email.value, email)
    mine = [e for e in unique.values() if registrable_domain(e.value.rpartition("@")[2]) in own]
    return mine or list(unique.values())


# --- which pages (pure) -------------------------------------------------------------------------------


def _same_site(url: str, home_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(home_url)
    if a.scheme not in ("http", "https"):
        return False
    domain = registrable_domain(a.hostname or "")
    if domain is not None:
        return domain == registrable_domain(b.hostname or "")
    return (a.hostname, a.port) == (b.hostname, b.port)  # IP-address sites: same host and port


def candidate_pages(home_html: str, home_url: str, *, limit: int) -> list[str]:
    """Pages to read after the home page: same-site links that mention "contact", then the usual paths."""
    found: list[str] = []
    for href, text in _parse(home_html).links:
        if "contact" in href.lower() or "contact" in text.lower():
            url = urljoin(home_url, href).split("#", 1)[0]
            if _same_site(url, home_url):
                found.append(url)
    found.extend(urljoin(home_url, path) for path in GUESSED_PATHS)
    pages = [u for u in dict.fromkeys(found) if u.rstrip("/") != home_url.rstrip("/")]
    return pages[:limit]


# --- the address guard (pure) -------------------------------------------------------------------------


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why the crawler must not connect to this IP address, or None when it may.

    ``allow_private`` admits loopback only (the fake sites in tests live on 127.0.0.1); private, link-local
    (cloud metadata), multicast, reserved and unspecified addresses are refused whatever it says.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_private else f"loopback address {ip}"
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{kind} address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"  # e.g. carrier-grade NAT 100.64/10
    return None


# --- I/O ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Page:
    url: str
    body: str


@dataclass(frozen=True, slots=True)
class _Skip:
    """A page not read; ``fatal`` when the site as a whole cannot be reached."""

    reason: str
    fatal: bool = False
    status: int | None = None
    """The HTTP status when the server answered with neither a page nor a redirect."""


@dataclass
class _Crawler:
    client: httpx.AsyncClient
    allow_private: bool
    max_bytes: int
    page_timeout: float
    politeness: KeyedLimiter | None = None
    robots: dict[str, urllib.robotparser.RobotFileParser | _Skip] = field(default_factory=dict)

    async def page(self, url: str) -> _Page | _Skip:
        """One page, following up to ``MAX_REDIRECTS`` redirects, each hop checked and obeying robots.txt."""
        return await self._follow(url, HTML_TYPES, check_robots=True)

    async def _follow(self, url: str, types: tuple[str, ...], *, check_robots: bool) -> _Page | _Skip:
        for _ in range(MAX_REDIRECTS + 1):
            if check_robots:
                refusal = await self._robots_refusal(url)
                if refusal is not None:
                    return refusal
            result = await self._once(url, types)
            if not isinstance(result, str):
                return result
            url = result  # a redirect target
        return _Skip(f"more than {MAX_REDIRECTS} redirects", fatal=True)

    async def _robots_refusal(self, url: str) -> _Skip | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            self.robots[origin] = await self._read_robots(origin)
        rules = self.robots[origin]
        if isinstance(rules, _Skip):
            return rules
        if not rules.can_fetch(USER_AGENT, url):
            return _Skip(f"robots.txt disallows {parts.path or '/'}")
        return None

    async def _read_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | _Skip:
        rules = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        result = await self._follow(origin + "/robots.txt", ROBOTS_TYPES, check_robots=False)
        if isinstance(result, _Skip):
            if result.fatal:
                return result
            if result.status is not None and result.status >= 500:
                # RFC 9309: a server error means assume everything is disallowed (4xx: there are no rules).
                return _Skip(f"robots.txt answered HTTP {result.status}", fatal=True)
        rules.parse([] if isinstance(result, _Skip) else result.body.splitlines())  # no rules: all allowed
        rules.modified()  # can_fetch refuses everything until the rules are marked as read
        return rules

    async def _once(self, url: str, types: tuple[str, ...]) -> _Page | _Skip | str:
        """One request, in its host's turn: the redirect target, the page, or why not."""
        key = host_key(url)
        if self.politeness is not None and key is not None:
            await self.politeness.acquire(key)  # before the page's timeout starts: waiting is not slowness
        try:
            async with asyncio.timeout(self.page_timeout):
                return await self._request(url, types)
        except TimeoutError:
            return _Skip(f"site unreachable: {urlsplit(url).netloc} timed out", fatal=True)
        except httpx.HTTPError as exc:
            return _Skip(f"site unreachable: {type(exc).__name__}", fatal=True)

    async def _request(self, url: str, types: tuple[str, ...]) -> _Page | _Skip | str:
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            target = httpx.URL()
        if target.scheme not in ("http", "https") or not target.raw_host:
            return _Skip(f"refused: not a usable http(s) URL: {url[:100]}", fatal=True)
        host = target.raw_host.decode("ascii")
        port = target.port or (443 if target.scheme == "https" else 80)
        pinned = await self._resolve(host, port)
        if isinstance(pinned, _Skip):
            return pinned
        # Connect to the address just checked (no second lookup a rebinding DNS server could answer
        # differently); Host and SNI keep the real name, and the connection is not reused for another host.
        headers = {"Host": target.netloc.decode("ascii"), "Accept": ", ".join(types) or "*/*"}
        headers |= {"Accept-Encoding": "identity", "Connection": "close"}
        extensions = {"sni_hostname": host} if _is_name(host) else {}
        request = self.client.build_request(
            "GET", target.copy_with(host=pinned), headers=headers, extensions=extensions
        )
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            return await self._read(url, response, types)
        finally:
            await response.aclose()

    async def _read(self, url: str, response: httpx.Response, types: tuple[str, ...]) -> _Page | _Skip | str:
        if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
            return urljoin(url, response.headers["location"]).split("#", 1)[0]
        if not response.is_success:
            code = response.status_code
            return _Skip(f"{urlsplit(url).path or '/'} answered HTTP {code}", status=code)
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if types and content_type not in types:
            return _Skip(f"not HTML: {urlsplit(url).path or '/'} is {content_type or 'untyped'}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk[: self.max_bytes - len(body)]
            if len(body) >= self.max_bytes:
                break  # the cap: stop reading, keep what came (contact details are rarely at the very end)
        return _Page(url=url, body=body.decode(response.charset_encoding or "utf-8", errors="replace"))

    async def _resolve(self, host: str, port: int) -> str | _Skip:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return _Skip(f"site unreachable: {host} does not resolve", fatal=True)
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:  # every answer must pass, not just the first
            refusal = address_refusal(address, allow_private=self.allow_private)
            if refusal is not None:
                return _Skip(f"refused: {host} is a {refusal}", fatal=True)
        if not addresses:
            return _Skip(f"site unreachable: {host} does not resolve", fatal=True)
        return addresses[0]


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def _start_url(url: str) -> str:
    url = url.strip()
    return url if "://" in url else "http://" + url


async def discover_contacts(
    url: str,
    *,
    client: httpx.AsyncClient,
    allow_private: bool = False,
    max_pages: int = 4,
    max_bytes: int = 512_000,
    page_timeout: float = 5.0,
    politeness: KeyedLimiter | None = None,
) -> WebsiteContacts:
    """Read the home page and likely contact pages of ``url`` for email addresses, each request (robots.txt and
    redirects too) in its host's turn of ``politeness`` (``host_politeness``; None: no wait).

    An unreachable, slow, refused or unhelpful site is an answer (``reason`` says why), not an error.
    Stops at the first page that yields an address on the site's own domain (any address, for an IP site).
    """
    start = _start_url(url)
    crawler = _Crawler(client, allow_private, max_bytes, page_timeout, politeness)
    home = await crawler.page(start)
    if isinstance(home, _Skip) and home.fatal:
        return WebsiteContacts(domain=registrable_domain(start), reason=home.reason)
    domain = registrable_domain(home.url if isinstance(home, _Page) else start) or registrable_domain(start)
    site_domains = {domain, registrable_domain(start)}
    pages: list[_Page] = [home] if isinstance(home, _Page) else []
    skipped: list[str] = [] if isinstance(home, _Page) else [home.reason]
    home_url = home.url if isinstance(home, _Page) else start
    home_html = home.body if isinstance(home, _Page) else ""
    emails, refused = extract_contacts(home.body, home.url) if isinstance(home, _Page) else ([], [])

    for page_url in candidate_pages(home_html, home_url, limit=max(max_pages - 1, 0)):
        if _enough(emails, site_domains):
            break  # enough: the business's own address
        page = await crawler.page(page_url)
        if isinstance(page, _Skip):
            skipped.append(page.reason)
            if page.fatal and not page.reason.startswith("refused"):
                break  # the site stopped answering: do not wait on every remaining page
            continue
        pages.append(page)
        found, notes = extract_contacts(page.body, page.url)
        emails += found
        refused += notes

    chosen = prefer_own_domain(emails, site_domains)
    return WebsiteContacts(
        domain=domain,
        emails=chosen,
        pages_fetched=[p.url for p in pages],
        reason=None if chosen else _no_address_reason(pages, skipped),
        refused=list(dict.fromkeys(refused)),
    )


def _enough(emails: list[ContactEmail], site_domains: set[str | None]) -> bool:
    """An address on the site's own domain; for a site with no domain (an IP address), any address."""
    own = site_domains - {None}
    if not own:
        return bool(emails)
    return any(registrable_domain(e.value.rpartition("@")[2]) in own for e in emails)


def _no_address_reason(pages: list[_Page], skipped: list[str]) -> str:
    # Missing guessed pages (404) are expected; the other skips explain why the answer may be incomplete.
    notes = [s for s in dict.fromkeys(skipped) if "answered HTTP 404" not in s]
    if not pages:
        return notes[0] if notes else "no pages could be read"
    return "; ".join(["no addresses found", *notes])
