"""`shoebox sync`: upload what is new or changed in folders, in parallel, resumably; nothing else.

Which files, under which key, with which metadata (dates, sidecars, Live Photo companions) and which are
content duplicates come from ingest's own code (``ingest.walk.walk``, ``ingest.plan.plan_photo``,
``ingest.plan.duplicate_of``). A file is done when its state row says so (same size and mtime as when it
was confirmed: no read at all), else it is planned (one read: SHA-256 and MD5) and compared with what the
bucket holds under its key: the same size and checksum there means "present" (recorded, not uploaded);
different content keeps both (``disambiguate``), never an overwrite.

Transfers: ``ingest.upload.Uploader`` (shared with ``shoebox ingest``): boto3's transfer manager, a
SHA-256 S3 verifies, S3's answer to the write as the confirmation; only then is the state row written.

Byte-identical files in one run: the first in walk order is stored, the others are reported duplicates
of it. Files of a size no other candidate has cannot be such copies and run in parallel at once; files
sharing a size run one after another, in walk order, on one worker (the walk's order decides, not which
hash finished first, so a copy's sidecar metadata is not lost to a race).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from shoebox.ingest.files import disambiguate
from shoebox.ingest.plan import Planned, duplicate_of, plan_photo
from shoebox.ingest.walk import PhotoFile, walk
from shoebox.ingest.sync_state import Confirmed, SyncState
from shoebox.ingest.upload import MB, TransferOptions, Uploader, b64
from shoebox.s3_layout import ORIGINALS



@dataclass(frozen=True)
class SyncOptions:
    concurrency: int = 8  # files in flight (and the transfer manager's threads)
    multipart_threshold: int = 16 * MB
    multipart_chunksize: int = 8 * MB
    max_bandwidth: int | None = None  # bytes/s over all transfers, None: unlimited
    dry_run: bool = False


@dataclass(frozen=True)
class Candidate:
    """A photo the state does not know in its current size and mtime (with its sidecars, from walk)."""

    path: Path
    size: int
    mtime_ns: int
    photo: PhotoFile | None = None


@dataclass
class FileResult:
    """One `shoebox sync --json` line."""

    source: str
    key: str | None
    size: int
    status: str  # uploaded | present | duplicate | would-upload | failed
    etag: str | None = None
    error: str | None = None
    seconds: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SyncReport:
    results: list[FileResult] = field(default_factory=list)
    unchanged: int = 0
    deferred: int = 0  # modified too recently (--watch): the next pass takes them
    skipped: int = 0  # not photos (sidecars, companions, special files): walk's reasons
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def uploaded_bytes(self) -> int:
        return sum(r.size for r in self.results if r.status == "uploaded")

    def summary(self) -> dict:
        statuses = ("uploaded", "present", "duplicate", "would-upload", "failed")
        return {"unchanged": self.unchanged, "deferred": self.deferred, "skipped": self.skipped,
                **{s: self.count(s) for s in statuses},
                "uploaded_bytes": self.uploaded_bytes, "seconds": round(self.seconds, 3)}


def file_id(path: Path) -> str:
    """The state's name for a file: absolute, not resolved (a NAS mount's symlinks stay as given)."""
    return str(path.absolute())


def changes(paths: Iterable[str | Path], known: dict[str, Confirmed],
            min_age: float = 0.0) -> tuple[list[Candidate], int, int, int]:
    """(photos to look at, how many are unchanged since they were confirmed, how many were modified less
    than ``min_age`` seconds ago and are left for later, how many entries walk skipped): a stat per file.
    ``min_age`` keeps --watch from uploading a file still being copied (it would be uploaded again,
    complete, as a new original)."""
    candidates: list[Candidate] = []
    unchanged = young = 0
    now_ns = time.time_ns()
    walked = walk(paths)
    for photo in walked.photos:
        path = photo.path
        try:
            st = path.stat()
        except OSError:  # gone between the listing and the stat: the next sync sees what is there
            continue
        row = known.get(file_id(path))
        if row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
            unchanged += 1
        elif min_age and now_ns - st.st_mtime_ns < min_age * 1e9:
            young += 1
        else:
            candidates.append(Candidate(path, st.st_size, st.st_mtime_ns, photo))
    return candidates, unchanged, young, len(walked.skipped)


def stored_originals(s3: Any, bucket: str, prefix: str = ORIGINALS) -> dict[str, int]:
    """Every original's size, by key: 1,000 keys a request, where a HEAD per new file would be one each.
    Only keys listed here are HEADed (to compare checksums)."""
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            sizes[obj["Key"]] = int(obj["Size"])
    return sizes


def same_size_groups(candidates: list[Candidate]) -> list[list[Candidate]]:
    """Candidates grouped by size, each group in walk order; only files of one size can be copies."""
    groups: dict[int, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.size, []).append(c)
    return list(groups.values())


class KeyTaken(RuntimeError):
    pass


class Syncer:
    def __init__(self, s3: Any, bucket: str, state: SyncState, options: SyncOptions | None = None,
                 on_bytes: Callable[[int], None] | None = None, catalog: Any | None = None) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.state = state
        self.options = options or SyncOptions()
        o = self.options
        self.uploader = Uploader(s3, bucket, TransferOptions(o.concurrency, o.multipart_threshold,
                                                             o.multipart_chunksize, o.max_bandwidth), on_bytes)
        self._stored: dict[str, int] | None = None
        self._stored_lock = threading.RLock()
        self._claimed: dict[str, str] = {}  # key -> sha256 of the file of this run uploading to it
        self.catalog = catalog  # for content duplicates already archived (None: only this run's)
        self._seen: dict[str, tuple[str, str]] = {}  # sha256 -> (source, planned key) of this run's first file

    def close(self, cancel: bool = False) -> None:
        self.uploader.close(cancel=cancel)

    # ------------------------------------------------------------------ one file
    def _stored_size(self, key: str) -> int | None:
        with self._stored_lock:
            if self._stored is None:
                self._stored = stored_originals(self.s3, self.bucket)
            return self._stored.get(key)

    def _same_content(self, key: str, size: int, planned: Planned) -> tuple[bool, str | None]:
        """(whether ``key`` holds this content, its ETag; None: not there). SHA-256 decides when the
        object has one (a sync's upload), else MD5: the md5 ingest stores as metadata, or the ETag of
        a single-part upload."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False, None
            raise
        etag = head["ETag"].strip('"')
        if head["ContentLength"] != size:
            return False, etag
        meta = head.get("Metadata", {})
        stored_sha = meta.get("sha256") or (head.get("ChecksumSHA256") if "-" not in head.get("ChecksumSHA256", "-")
                                            else None)
        if stored_sha is not None:
            return stored_sha in (planned.sha256, b64(planned.sha256)), etag
        return (meta.get("md5") or etag) == planned.md5, etag

    def _place(self, c: Candidate, planned: Planned) -> tuple[str, str | None]:
        """(key, ETag if the same content is there already) under ingest's rules: the planned key, else
        a content-suffixed one when other content holds it, or another file of this run is uploading
        to it (two folders with an IMG_0001.JPG of the same day). Raises KeyTaken if both are taken."""
        key = planned.key
        for candidate in (key, disambiguate(key, planned.md5)):
            with self._stored_lock:
                if candidate in self._claimed:  # other content of this run (the same is a duplicate)
                    continue
                if self._stored_size(candidate) is None:
                    self._claimed[candidate] = planned.sha256
                    return candidate, None
            same, etag = self._same_content(candidate, c.size, planned)
            if same or etag is None:  # the same content, or deleted since the listing: free
                return candidate, etag if same else None
        raise KeyTaken(f"{key} and {disambiguate(key, planned.md5)} hold other content; not overwritten")

    def _duplicate(self, c: Candidate, planned: Planned) -> str | None:
        """The key these bytes are stored under as another photo (ingest's rule, ``duplicate_of``): an
        earlier file of this run with the same bytes (whatever its key), else a processed photo (a
        catalog query, only with a catalog)."""
        from shoebox.catalog.duplicates import keys_with_content, record_duplicate

        with self._stored_lock:
            first = self._seen.setdefault(planned.sha256, (str(c.path), planned.key))
        earlier = first[1] if first[0] != str(c.path) else None
        own = {planned.key, disambiguate(planned.key, planned.md5)}
        held = [] if earlier or self.catalog is None else keys_with_content(self.catalog, planned.sha256)
        of = earlier or duplicate_of(planned.key, own, None, held)
        if of is not None and self.catalog is not None and not self.options.dry_run:
            record_duplicate(self.catalog, file_id(c.path), of)
        return of

    def _upload(self, c: Candidate, key: str, planned: Planned) -> str:
        etag = self.uploader.put(c.path, key, c.size, planned.metadata, planned.sha256, planned.md5)
        with self._stored_lock:
            if self._stored is not None:
                self._stored[key] = c.size
        return etag

    def plan(self, c: Candidate) -> Planned:
        return plan_photo(c.photo or PhotoFile(c.path, c.path.parent))

    def sync_one(self, c: Candidate, planned: Planned | None = None) -> FileResult:
        started = time.monotonic()
        try:
            planned = planned or self.plan(c)
            if self.options.dry_run and self._stored_size(planned.key) is None:
                return FileResult(str(c.path), planned.key, c.size, "would-upload")
            of = self._duplicate(c, planned)
            if of is not None:
                if not self.options.dry_run:  # remembered: the next sync does not read it again
                    self.state.confirm(Confirmed(file_id(c.path), c.size, c.mtime_ns, planned.sha256, planned.md5,
                                                 of, ""))
                return FileResult(str(c.path), None, c.size, "duplicate", error=f"same bytes as {of}: not stored again")
            key, etag = self._place(c, planned)
            if etag is not None:
                status = "present"
            elif self.options.dry_run:
                return FileResult(str(c.path), key, c.size, "would-upload")
            else:
                etag, status = self._upload(c, key, planned), "uploaded"
            if not self.options.dry_run:
                self.state.confirm(Confirmed(file_id(c.path), c.size, c.mtime_ns, planned.sha256, planned.md5, key,
                                             etag))
            return FileResult(str(c.path), key, c.size, status, etag=etag,
                              seconds=round(time.monotonic() - started, 3))
        except (OSError, ClientError, RuntimeError) as exc:
            return FileResult(str(c.path), None, c.size, "failed", error=str(exc))

    # ------------------------------------------------------------------ many
    def _planned(self, c: Candidate) -> tuple[Candidate, Planned | None, FileResult | None]:
        try:
            return c, self.plan(c), None
        except (OSError, RuntimeError) as exc:
            return c, None, FileResult(str(c.path), None, c.size, "failed", error=str(exc))

    def sync(self, candidates: list[Candidate], on_result: Callable[[FileResult], None]) -> list[FileResult]:
        """Each candidate on a worker (hash, place, upload, confirm); results in completion order. Files
        that share a size are hashed first (in parallel), then each set of identical ones runs in walk
        order on one worker. On Ctrl-C the transfers in flight are cancelled: their files have no state
        row and are looked at again next time."""
        results: list[FileResult] = []

        def report(batch: list[FileResult]) -> None:
            for result in batch:
                results.append(result)
                on_result(result)

        # twice as many files in hand as transfers: while one worker hashes or confirms its file, the
        # transfer manager still has `concurrency` transfers to run
        pool = ThreadPoolExecutor(max_workers=2 * self.options.concurrency, thread_name_prefix="sync")
        order = {id(c): i for i, c in enumerate(candidates)}
        try:
            running: dict[Future, list[Candidate] | None] = {}  # plan futures -> their size group
            groups = same_size_groups(candidates)
            hashed: dict[int, list[tuple[Candidate, Planned]]] = {}
            for group in groups:
                if len(group) == 1:
                    running[pool.submit(lambda c=group[0]: [self.sync_one(c)])] = None
                else:
                    for c in group:
                        running[pool.submit(self._planned, c)] = group
            left = {id(g): len(g) for g in groups if len(g) > 1}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    group = running.pop(future)
                    if group is None:  # a sync_one batch
                        report(future.result())
                        continue
                    c, planned, failed = future.result()
                    if failed is not None:
                        report([failed])
                    else:
                        hashed.setdefault(id(group), []).append((c, planned))
                    left[id(group)] -= 1
                    if left[id(group)]:
                        continue
                    for same in _identical(hashed.pop(id(group), []), order):
                        running[pool.submit(lambda same=same: [self.sync_one(c, p) for c, p in same])] = None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            self.close(cancel=True)
            raise
        pool.shutdown()
        return results


def _identical(hashed: list[tuple[Candidate, Planned]], order: dict[int, int]) -> list[list[tuple[Candidate, Planned]]]:
    """Hashed files of one size grouped by content, each group in walk order (``order``: id → index)."""
    by_content: dict[str, list[tuple[Candidate, Planned]]] = {}
    for c, planned in sorted(hashed, key=lambda cp: order[id(cp[0])]):
        by_content.setdefault(planned.sha256, []).append((c, planned))
    return list(by_content.values())


def run_sync(s3: Any, bucket: str, state: SyncState, paths: Iterable[str | Path],
             options: SyncOptions | None = None, on_result: Callable[[FileResult], None] | None = None,
             on_start: Callable[[list[Candidate]], None] | None = None,
             on_bytes: Callable[[int], None] | None = None, min_age: float = 0.0,
             catalog: Any | None = None) -> SyncReport:
    """One sync pass over ``paths``: what changed since the state's rows is placed and uploaded.
    ``catalog``: also skip content already archived as another photo (ingest's duplicate rule)."""
    started = time.monotonic()
    candidates, unchanged, young, skipped = changes(paths, state.known(), min_age)
    if on_start:
        on_start(candidates)
    report = SyncReport(unchanged=unchanged, deferred=young, skipped=skipped)
    if candidates:
        syncer = Syncer(s3, bucket, state, options, on_bytes=on_bytes, catalog=catalog)
        report.results = syncer.sync(candidates, on_result or (lambda r: None))
        syncer.close()
    report.seconds = time.monotonic() - started
    return report


def watch(paths: list[Path], run_pass: Callable[[], SyncReport], stop: threading.Event, settle: float = 2.0,
          polling: bool = False, poll_interval: float = 5.0) -> None:
    """Run ``run_pass`` once, then whenever files under ``paths`` change, until ``stop`` is set. A burst of events
    (a camera card copied in) is one pass, once nothing has changed for ``settle`` seconds; a pass that
    left files for later (still being written) runs again after ``settle``. ``polling``: watchdog's
    polling observer, for network shares (NFS/SMB) whose changes made on another machine raise no
    inotify event."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    changed = threading.Event()
    last = [time.monotonic()]

    class _Handler(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            if event.event_type in ("opened", "closed_no_write"):  # reads: ours, when we hash
                return
            last[0] = time.monotonic()
            changed.set()

    observer = PollingObserver(timeout=poll_interval) if polling else Observer()
    for path in paths:
        observer.schedule(_Handler(), str(path), recursive=path.is_dir())
    observer.start()  # before the first pass: a file arriving during it raises an event for the next
    last[0] = 0.0
    changed.set()
    try:
        while not stop.is_set():
            if not changed.wait(0.2):
                continue
            while not stop.is_set() and time.monotonic() - last[0] < settle:  # coalesce the burst
                stop.wait(min(0.2, settle))
            if stop.is_set():
                break
            changed.clear()
            report = run_pass()
            if report.deferred:
                last[0] = time.monotonic()
                changed.set()
    finally:
        observer.stop()
        observer.join()


def network_filesystem(path: Path) -> bool:
    """Whether ``path`` is on NFS/SMB/FUSE (Linux /proc/mounts): there inotify misses other machines'
    writes, so --watch polls."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return False
    target = str(path.resolve())
    best = max((m for m in mounts if len(m) > 2 and (target == m[1] or target.startswith(m[1].rstrip("/") + "/"))),
               key=lambda m: len(m[1]), default=None)
    return best is not None and best[2].split(".")[0] in ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse", "9p",
                                                          "sshfs", "davfs")


def wait_processed(catalog: Any, uploaded: dict[str, str], poll_seconds: float, timeout: float,
                   on_done: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
    """Wait until each uploaded key's catalog row carries the ETag that was uploaded (its workflow
    finished, processed or failed). One catalog query per poll for all of them (``get_photos``:
    BatchGetItem, 100 keys a request), never one per photo. Returns key -> record (None: timed out)."""
    pending = dict(uploaded)
    done: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while pending:
        rows = catalog.get_photos(list(pending))
        for key, etag in list(pending.items()):
            record = rows.get(key)
            if record is not None and (record.etag or "") == etag:
                done[key] = record
                del pending[key]
                if on_done:
                    on_done(key, record)
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(poll_seconds)
    for key in pending:
        done[key] = None
    return done


def estimate(candidates: list[Candidate], region: str = "us-east-1") -> dict:
    """What uploading ``candidates`` would cost to process and store, by the backfill planner's prices
    and model (``backfill.plan``): processing once plus a month of storage."""
    from shoebox.backfill.measure import format_of
    from shoebox.backfill.plan import GIB, plan

    if not candidates:
        return {"photos": 0, "gigabytes": 0.0, "cost_usd": {"total": 0.0}}
    counts: dict[str, int] = {}
    for c in candidates:
        counts[format_of(c.path.name)] = counts.get(format_of(c.path.name), 0) + 1
    mix = {fmt: n / len(candidates) for fmt, n in counts.items()}
    gigabytes = sum(c.size for c in candidates) / GIB
    return plan(len(candidates), gigabytes, format_mix=mix, region=region).to_dict()
