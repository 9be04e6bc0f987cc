"""The gallery's views: each reads through the Backend's clients (Queries and GetItems, no Scan) and
returns a page or JSON. Run by ``app.handler`` in a worker thread inside the Backend's endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shoebox import executions as views
from shoebox.gallery import runs, timeline, words
from shoebox.gallery.app import PAGE, Gallery, _error, _payload, img_url, photo_url, tile
from shoebox.s3_layout import ORIGINALS, THUMBNAILS

# only thumbnails (THUMBNAILS) are served as images: they are rendered without GPS or camera EXIF
# (imaging.rendering.output_exif), people's crops are cut from them


def _limit(request: Request, default: int = PAGE) -> int:
    try:
        return max(1, min(200, int(request.query_params.get("limit", default))))
    except ValueError:
        return default


class Views:
    def __init__(self, gallery: Gallery, page: Callable[..., Response]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.g = gallery
        self.page = page
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="gallery-read")

    def _together(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent reads at once, each in a copy of this thread's context (the endpoint)."""
        import contextvars

        futures = [self._pool.submit(contextvars.copy_context().run, call) for call in calls]
        return [f.result() for f in futures]

    # ------------------------------------------------------------------ timeline
    def _timeline(self, cursor_text: str | None, month: str | None, limit: int) -> dict:
        cv = self.g.vocabulary()
        years = cv.years
        if cursor_text:
            cursor = timeline.Cursor.decode(cursor_text)
        else:
            cursor = timeline.start_cursor(years, month)
        if cursor is None:
            return {"photos": [], "next": None}
        rows, following = timeline.read_page(self.g.catalog, years, cursor, limit)
        return {"photos": [tile(r) for r in rows], "next": following.encode() if following else None}

    def home(self, request: Request) -> Response:
        from shoebox.search.execute import on_this_day, rediscover

        month = request.query_params.get("month")
        cv = self.g.vocabulary()
        today = date.today()
        # three independent Queries, each mostly waiting on the endpoint: in parallel, the page takes
        # the slowest of them rather than their sum
        first, remembered, again = self._together(
            lambda: self._timeline(None, month, PAGE),
            lambda: [tile(r) for r in on_this_day(self.g.catalog, today, limit=12).rows
                     if (r.get("taken_at") or "")[:4] != str(today.year)],
            lambda: [tile(r) for r in rediscover(self.g.catalog, limit=12).rows])
        years = [{"year": pk[5:], "count": cv.count(pk)} for pk in cv.years]
        return self.page(request, "timeline.html", first=first, years=years, month=month,
                         on_this_day=remembered, rediscover=again, total=cv.count("ALL"))

    def api_timeline(self, request: Request) -> Response:
        try:
            return JSONResponse(self._timeline(request.query_params.get("cursor"), request.query_params.get("month"),
                                               _limit(request)))
        except ValueError as exc:
            return _error(400, str(exc))

    # ------------------------------------------------------------------ search
    def _search(self, text: str, offset: int, limit: int) -> dict:
        self.g.vocabulary()  # refreshed when stale
        searcher = self.g.searcher  # one vocabulary for the query and the names shown with it
        result = searcher.search(text, limit=limit + 1, offset=offset)
        rows = result.rows[:limit]
        refs = searcher.vocabulary.people_refs
        return {"query": text, "photos": [tile(r, text, offset + n) for n, r in enumerate(rows)], "meaning": words.meaning(result.parsed, refs),
                "next_offset": offset + limit if len(result.rows) > limit else None}

    def search_page(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        found = self._search(text, 0, PAGE) if text else {"query": "", "photos": [], "meaning": [], "next_offset": None}
        return self.page(request, "search.html", found=found, q=text)

    def api_search(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            return _error(400, "offset must be a number")
        return JSONResponse(self._search(text, offset, _limit(request)))

    def api_suggest(self, request: Request) -> Response:
        return JSONResponse(words.suggest(request.query_params.get("q", ""), self.g.words()))

    # ------------------------------------------------------------------ one photo
    def photo(self, request: Request) -> Response:
        from shoebox.catalog.people_rules import canonical_people

        key = unquote(request.path_params["key"])
        record = self.g.catalog.get_photo(key)
        if record is None:
            return self.page(request, "missing.html", what=key)
        refs = self.g.vocabulary().people_refs
        newer, older = self._neighbours(record, request.query_params.get("q"), request.query_params.get("i"))
        faces = []
        for face in record.faces:
            (ref,) = canonical_people([face["person_id"]], refs) if face.get("person_id") else (None,)
            faces.append({"bbox": face.get("bbox") or {}, "person": ref.id if ref else None,
                          "label": ref.label if ref else "unknown"})
        people = canonical_people(record.people, refs)
        if record.status == "processed":
            self.g.catalog.mark_viewed(key)  # rediscover: looked at now
        return self.page(request, "photo.html", r=record, faces=faces, people=people,
                         view=img_url((record.thumbnails.get("view") or {}).get("key")),
                         newer=newer, older=older, from_search=bool(request.query_params.get("q")))

    def _neighbours(self, record: Any, query: str | None, index: str | None) -> tuple[str | None, str | None]:
        """Links to the photos before and after this one: in the search it was opened from (its results
        around ``index``, one search of at most three rows), else in the timeline."""
        if query and index and index.isdigit():
            i = int(index)
            self.g.vocabulary()
            rows = [r["key"] for r in self.g.searcher.search(query, limit=3 if i else 2, offset=max(0, i - 1)).rows]
            if record.key in rows:
                at = rows.index(record.key)
                before = rows[at - 1] if at > 0 else None
                after = rows[at + 1] if at + 1 < len(rows) else None
                return (photo_url(before, query, i - 1) if before else None,
                        photo_url(after, query, i + 1) if after else None)
        if record.status != "processed":
            return None, None
        newer, older = timeline.neighbours(self.g.catalog, self.g.vocabulary().years,
                                           {"key": record.key, "taken_at": record.taken_at})
        return (photo_url(newer) if newer else None, photo_url(older) if older else None)

    def _object(self, key: str, **headers: str) -> Response:
        b = self.g.backend
        try:
            got = b.s3.get_object(Bucket=b.bucket, Key=key)
        except ClientError:
            return _error(404, "no such image")
        return Response(got["Body"].read(), media_type=got.get("ContentType") or "application/octet-stream",
                        headers={"Cache-Control": "private, max-age=3600", **headers})

    def image(self, request: Request) -> Response:
        key = unquote(request.path_params["key"])
        if not key.startswith(THUMBNAILS) or ".." in key.split("/"):
            return _error(404, "only thumbnails are served as images")
        return self._object(key)

    def original(self, request: Request) -> Response:
        """The original as stored (GPS and all): only as a download the user asked for."""
        key = unquote(request.path_params["key"])
        if not key.startswith(ORIGINALS):
            return _error(404, "not an original")
        name = key.rsplit("/", 1)[-1].replace('"', "")
        return self._object(key, **{"Content-Disposition": f'attachment; filename="{name}"'})

    # ------------------------------------------------------------------ people
    def people_page(self, request: Request) -> Response:
        from shoebox.errors import RecognitionError, RecognitionThrottled

        hidden = request.query_params.get("hidden") == "1"
        people = self.g.people()
        people.ensure_covers()
        listed = [p.to_json() for p in people.list_people(include_hidden=hidden) if p.hidden or not hidden]
        ids = [pid for p in listed for pid in (p["id"], *p["aliases"])]
        note = None
        try:  # hidden people are never suggested (`people suggest`)
            pairs = people.suggestions(self.g.backend.similar_people(ids), limit=10) if ids and not hidden else []
        except (RecognitionError, RecognitionThrottled) as exc:
            pairs, note = [], f"the recognizer could not compare people: {exc}"
        for p in listed + [x for pair in pairs for x in (pair["a"], pair["b"])]:
            p["cover_url"] = img_url(p["cover"])
        return self.page(request, "people.html", people=listed, pairs=pairs, note=note, hidden=hidden)

    def _edit(self, change: Callable[[Any], Any]) -> Response:
        from shoebox.catalog.people_rules import PeopleError

        try:
            result = change(self.g.people())
        except PeopleError as exc:
            return _error(409, str(exc))
        self.g.changed()
        return JSONResponse([p.to_json() for p in result] if isinstance(result, list) else result.to_json())

    def name_person(self, request: Request) -> Response:
        name = str(_payload(request).get("name") or "")
        return self._edit(lambda people: people.name_person(request.path_params["pid"], name))

    def hide_person(self, request: Request) -> Response:
        hidden = bool(_payload(request).get("hidden", True))
        return self._edit(lambda people: people.hide(request.path_params["pid"], hidden))

    def merge_people(self, request: Request) -> Response:
        ids = [str(i) for i in _payload(request).get("ids") or []]
        if len(ids) < 2 or len(set(ids)) != len(ids):
            return _error(400, "merge wants two or more different people")
        return self._edit(lambda people: people.merge(ids))

    def apart_people(self, request: Request) -> Response:
        a, b = str(_payload(request).get("a") or ""), str(_payload(request).get("b") or "")
        if not a or not b or a == b:
            return _error(400, "apart wants two different people")
        return self._edit(lambda people: people.apart(a, b))

    # ------------------------------------------------------------------ executions
    def executions_page(self, request: Request) -> Response:
        failed = request.query_params.get("failed") == "1"
        b = self.g.backend
        kwargs: dict[str, Any] = {"stateMachineArn": b.state_machine_arn, "maxResults": 50}
        if failed:
            kwargs["statusFilter"] = "FAILED"
        listed = b.sfn.list_executions(**kwargs)["executions"]
        rows = []
        for e in listed:
            row = {"name": e["name"], "status": e["status"], "start": e.get("startDate"),
                   "duration_ms": views._ms(e.get("startDate"), e.get("stopDate")), "key": None, "error": None}
            if e["status"] == "FAILED":  # the reason is worth a DescribeExecution each
                summary = views.summary({"describe": b.sfn.describe_execution(executionArn=e["executionArn"]),
                                         "events": []})
                row["key"], row["error"] = summary["key"], summary["error"]
            rows.append(row)
        return self.page(request, "executions.html", rows=rows, failed=failed)

    def execution_page(self, request: Request) -> Response:
        b = self.g.backend
        name = request.path_params["name"]
        record = b.execution_record(name)
        if record is None:
            return self.page(request, "missing.html", what=f"execution {name}")
        detail = views.detail(record)
        definition = b.sfn.describe_state_machine(stateMachineArn=b.state_machine_arn)["definition"]
        graph = runs.run_graph(definition, detail["states"])
        path = [s["name"] for s in detail["states"]]
        return self.page(request, "execution.html", d=detail, graph=graph, path=path,
                         key=views.input_key(record["describe"]),
                         console=None if b.local else runs.console_url(detail["execution"]))

    # ------------------------------------------------------------------ shares
    def shares_page(self, request: Request) -> Response:
        from shoebox.shares import list_shares

        found = list_shares(self.g.backend)
        for s in found:
            s.link = f"/shared/{s.share}/index.html" if s.folder else (s.album or (s.photos[0]["view"] if s.photos else None))
        return self.page(request, "shares.html", shares=found)

    def create_share(self, request: Request) -> Response:
        import secrets

        from shoebox.sharing import parse_expiry
        from shoebox.shares import ShareError, create

        body = _payload(request)
        try:
            seconds = parse_expiry(str(body.get("expires") or "7d"))
        except ValueError as exc:
            return _error(400, str(exc))
        keys = [str(k) for k in body.get("keys") or []]
        if body.get("query"):
            self.g.vocabulary()
            keys += [r["key"] for r in self.g.searcher.search(str(body["query"]), limit=500).rows]
        b = self.g.backend
        folder = None
        if b.local:  # an album folder beside the archive, served back at /shared/<id>/ (loopback only)
            folder = (b.home or Path.cwd()) / "shares" / f"album-{secrets.token_hex(6)}"
        try:
            made = create(b, keys, seconds, str(body.get("title") or "Shared photos"), folder=folder)
        except ShareError as exc:
            return _error(400, str(exc))
        link = f"/shared/{made.share}/index.html" if made.folder else (made.album or made.photos[0]["view"])
        return JSONResponse({**made.to_json(), "link": link, "left_out": made.left_out})

    def revoke_share(self, request: Request) -> Response:
        from shoebox.shares import ShareError, revoke

        try:
            return JSONResponse(revoke(self.g.backend, request.path_params["share_id"]).to_json())
        except ShareError as exc:
            return _error(404, str(exc))

    def shared_file(self, request: Request) -> Response:
        """A local share's album, from its folder: only the files the share wrote (thumbnail copies)."""
        import json

        b = self.g.backend
        from shoebox.shares import record_key

        try:
            data = json.loads(b.s3.get_object(Bucket=b.bucket, Key=record_key(request.path_params["share_id"]))["Body"].read())
        except ClientError:
            return _error(404, "no such share")
        name = request.path_params["name"]
        if not data.get("folder") or name not in (data.get("files") or []):
            return _error(404, "not part of this share")
        path = Path(data["folder"]) / name
        if not path.is_file():
            return _error(404, "gone from the share's folder")
        media = "text/html; charset=utf-8" if name.endswith(".html") else "image/jpeg"
        return Response(path.read_bytes(), media_type=media)
