"""The gallery's web app (Starlette): pages and the JSON endpoints their scripts call.

Every handler runs in a worker thread inside ``aws.using(endpoint)``, so its boto3 clients are the
Backend's (the local service, or AWS with the user's credentials). Reads are the catalog's Queries and
GetItems; writes (name, merge, hide, apart, share, revoke) are POSTs that must carry the page's token."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from shoebox import aws
from shoebox.gallery import timeline, words

HERE = Path(__file__).parent
PAGE = 60  # photos per timeline or search page
TOKEN_HEADER = "X-Shoebox-Token"
LOOPBACK = ["127.0.0.1", "localhost"]


class Gallery:
    """What the handlers share: the Backend's clients and a short-lived copy of the vocabulary."""

    def __init__(self, backend: Any, token: str | None = None, vocabulary_ttl: float = 10.0) -> None:
        from shoebox.search.execute import Searcher

        self.backend = backend
        self.endpoint = backend.endpoint
        self.token = token or secrets.token_urlsafe(32)
        with aws.using(self.endpoint):
            self.catalog = backend.catalog
        self.searcher = Searcher(self.catalog)
        self.ttl = vocabulary_ttl
        self._loaded = 0.0
        self._fresh_needed = True  # nothing read yet
        self._refreshing = False
        self._words: list[words.Word] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ shared reads
    def vocabulary(self) -> Any:
        """The catalog's vocabulary (one Query of VOCAB, one of PEOPLE). Older than ``ttl`` seconds, it is
        re-read in the background while requests go on with the one they have (no request waits for a
        VOCAB read but the first); after a write made here, the next request reads it afresh."""
        with self._lock:
            now = time.monotonic()
            stale = now - self._loaded > self.ttl
            if stale and not self._fresh_needed and not self._refreshing and self.ttl > 0:
                self._refreshing = True
                threading.Thread(target=self._reload, args=(aws.current_endpoint(),), daemon=True).start()
            elif stale and (self._fresh_needed or self.ttl <= 0):
                self._swap(self._load())
        return self.searcher.vocabulary

    def _load(self) -> Any:
        from shoebox.search.execute import Searcher

        searcher = Searcher(self.catalog)
        searcher.vocabulary  # noqa: B018 - read now, not by the request that uses it
        return searcher

    def _swap(self, searcher: Any) -> None:
        self.searcher, self._words = searcher, None
        self._loaded, self._fresh_needed = time.monotonic(), False

    def _reload(self, endpoint: Any) -> None:
        try:
            with aws.using(endpoint):
                searcher = self._load()
            with self._lock:
                if not self._fresh_needed:  # a write since: the next request reads it itself
                    self._swap(searcher)
        finally:
            self._refreshing = False

    def changed(self) -> None:
        with self._lock:
            self._fresh_needed = True
            self._loaded = 0.0

    def words(self) -> list[words.Word]:
        cv = self.vocabulary()
        if self._words is None:
            self._words = words.vocabulary_words(cv.counts, cv.people_refs)
        return self._words

    def people(self) -> Any:
        return self.backend.people()


# ---------------------------------------------------------------------------------------------- shapes


def img_url(key: str | None) -> str | None:
    return f"/img/{quote(key)}" if key else None


def photo_url(key: str, query: str | None = None, index: int | None = None) -> str:
    """A photo's page; from a search, with the query and the photo's place in its results, so that
    newer/older walk the results rather than the timeline."""
    url = f"/photo/{quote(key)}"
    return f"{url}?q={quote(query)}&i={index}" if query and index is not None else url


def tile(row: dict, query: str | None = None, index: int | None = None) -> dict:
    """A photo in a grid (an index row's summary → what the page and its script draw)."""
    return {"key": row["key"], "taken_at": row.get("taken_at"), "month": timeline.month_of(row),
            "thumb": img_url(row.get("thumbnail")), "href": photo_url(row["key"], query, index),
            "name": row["key"].rsplit("/", 1)[-1]}


def month_title(month: str) -> str:
    if month == "undated":
        return "Undated"
    return date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")


def _payload(request: Request) -> dict:
    return getattr(request.state, "payload", None) or {}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# ---------------------------------------------------------------------------------------------- app


def create_app(gallery: Gallery, allowed_hosts: list[str] | None = None) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["month_title"] = month_title
    templates.env.filters["urlquote"] = quote
    templates.env.globals["token"] = gallery.token
    templates.env.globals["local"] = gallery.backend.local
    templates.env.globals["stack"] = gallery.backend.stack

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context)

    def handler(fn: Callable[[Request], Response], write: bool = False) -> Callable:
        """A sync view run in a worker thread with the Backend's endpoint; a write wants the token."""
        async def endpoint(request: Request) -> Response:
            if write:
                sent = request.headers.get(TOKEN_HEADER, "")
                if not hmac.compare_digest(sent.encode(), gallery.token.encode()):
                    return _error(403, "missing or wrong token: reload the page")
                try:
                    request.state.payload = json.loads(await request.body() or b"{}")
                except ValueError:
                    return _error(400, "the body is not JSON")
                if not isinstance(request.state.payload, dict):
                    return _error(400, "the body is not a JSON object")

            def call() -> Response:
                with aws.using(gallery.endpoint):
                    return fn(request)

            return await run_in_threadpool(call)
        return endpoint

    from shoebox.gallery import handlers

    views_ = handlers.Views(gallery, page)
    routes = [
        Route("/", handler(views_.home)),
        Route("/api/timeline", handler(views_.api_timeline)),
        Route("/search", handler(views_.search_page)),
        Route("/api/search", handler(views_.api_search)),
        Route("/api/suggest", handler(views_.api_suggest)),
        Route("/photo/{key:path}", handler(views_.photo)),
        Route("/img/{key:path}", handler(views_.image)),
        Route("/original/{key:path}", handler(views_.original)),
        Route("/people", handler(views_.people_page)),
        Route("/api/people/{pid}/name", handler(views_.name_person, write=True), methods=["POST"]),
        Route("/api/people/{pid}/hide", handler(views_.hide_person, write=True), methods=["POST"]),
        Route("/api/people/merge", handler(views_.merge_people, write=True), methods=["POST"]),
        Route("/api/people/apart", handler(views_.apart_people, write=True), methods=["POST"]),
        Route("/executions", handler(views_.executions_page)),
        Route("/executions/{name}", handler(views_.execution_page)),
        Route("/shares", handler(views_.shares_page)),
        Route("/api/shares", handler(views_.create_share, write=True), methods=["POST"]),
        Route("/api/shares/{share_id}/revoke", handler(views_.revoke_share, write=True), methods=["POST"]),
        Route("/shared/{share_id}/{name}", handler(views_.shared_file)),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK)]
    return Starlette(routes=routes, middleware=middleware)
