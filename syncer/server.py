"""`pmsync serve` (and `pmsync run --serve`): tracker webhooks, `/healthz` and `/metrics` over
HTTP, so that a close, reopen or reassignment flows back to the post-mortem in seconds.

Built on Starlette (an ASGI toolkit: routing and requests, nothing more) served by uvicorn,
both well kept and small; `/metrics` is prometheus-client's exposition of its registry.

A delivery is verified (`syncer.webhooks`) before anything in it is read, from its raw body,
which may be no larger than `[serve] max_body_kib`. A verified delivery whose id was seen
before is answered 200 and does nothing. One about an issue pmsync filed wakes the worker,
which re-reads the trackers and applies what changed as the schedule does: a sync (write-back
to the post-mortem), then a check (the flags and the metrics). The payload's own state is
never trusted, so deliveries may come in any order and any number of times. The worker
coalesces: a burst of a thousand deliveries is one or two runs, and memory holds no more
than the last delivery ids. Polling stays the safety net: `check` and the scheduled sync
still reconcile whatever a lost delivery, or one that failed to apply, left behind.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syncer import logs, statefile, webhooks
from syncer.errors import STOPPING, ConfigError, Locked

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from syncer.settings import Settings

log = logs.get_logger("pmsync.serve")

DELIVERIES_FILE = "webhook-deliveries.json"
DELIVERIES_KEPT = 20_000  # delivery ids remembered, the newest (a redelivery comes within days)


@dataclass(slots=True)
class Deliveries:
    """The ids of the deliveries answered, newest last, at most `DELIVERIES_KEPT`; kept in the
    state folder, so that a restart does not apply a redelivery twice."""

    path: Any = None
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: bool = False

    @classmethod
    def load(cls, path: Any) -> Deliveries:
        data = statefile.load(path, "webhook_deliveries_unreadable")
        ids = data.get("ids") if isinstance(data, dict) else None
        kept = OrderedDict.fromkeys(str(i) for i in ids) if isinstance(ids, list) else None
        return cls(path, kept or OrderedDict())

    def first(self, tracker: str, delivery: str) -> bool:
        """Whether this is the first time the delivery is seen (and remember it)."""
        key = f"{tracker} {delivery}"
        with self._lock:
            if key in self.seen:
                self.seen.move_to_end(key)
                return False
            self.seen[key] = None
            while len(self.seen) > DELIVERIES_KEPT:
                self.seen.popitem(last=False)
            self._changed = True
            return True

    def save(self) -> None:
        with self._lock:
            if not self._changed or self.path is None:
                return
            ids, self._changed = list(self.seen), False
        statefile.save(self.path, {"ids": ids}, "webhook_deliveries_unsaved", optional=True)


class Worker:
    """Runs `apply` in a thread of its own whenever woken, after a short pause that gathers
    the deliveries of a burst into one run. A run that cannot start (another run holds the
    state) is tried again a little later; one that fails is left to the next scheduled run."""

    def __init__(
        self, apply: Callable[[], None], deliveries: Deliveries, pause: float = 0.2
    ) -> None:
        self._apply = apply
        self._deliveries = deliveries
        self._pause = pause
        self._woken = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="pmsync-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._idle.clear()
        self._woken.set()

    def idle(self, timeout: float) -> bool:
        """Wait until no run is pending (tests and shutdown); whether it came to that."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        while not STOPPING.is_set():
            if not self._woken.wait(0.5):
                continue
            time.sleep(self._pause)  # let the rest of a burst arrive
            self._woken.clear()
            try:
                self._apply()
                self.runs += 1
            except Locked:
                log.info("webhook_run_postponed", reason="another run holds the state")
                STOPPING.wait(5.0)
                self._woken.set()
                continue
            except Exception as exc:  # the scheduled runs reconcile what this one missed
                log.exception("webhook_run_failed", error=f"{type(exc).__name__}: {exc}")
            self._deliveries.save()
            if not self._woken.is_set():
                self._idle.set()


def application(
    settings: Settings,
    worker: Worker,
    deliveries: Deliveries,
    epoch: Callable[[], float] = time.time,
) -> Starlette:
    """The ASGI application: `/webhooks/<tracker>`, `/healthz` and `/metrics`."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    secrets = {name: _secrets(settings, name) for name in settings.trackers}
    limit = settings.serve.max_body_kib * 1024

    async def webhook(request: Request) -> Response:
        name = request.path_params["tracker"]
        config = settings.trackers.get(name)
        found = secrets.get(name)
        if config is None or found is None:
            return JSONResponse({"error": f"no webhooks for tracker {name!r}"}, 404)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _refused(name, config.kind, 413, "body over the size limit")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _refused(name, config.kind, 413, "body over the size limit")
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = bytes(body)
        try:
            delivery = webhooks.verify(config.kind, headers, raw, found, epoch())
            verdict = webhooks.read(config.kind, headers, raw, delivery)
        except webhooks.Refused as exc:
            return _refused(name, config.kind, exc.status, exc.reason)
        if delivery and not deliveries.first(name, delivery):
            log.info("webhook_repeated", tracker=name, delivery=delivery)
            return JSONResponse({"status": "already received"}, 200)
        if verdict.issue is None:
            log.info("webhook_ignored", tracker=name, delivery=delivery, kind=verdict.event)
            return Response(status_code=204)
        log.info("webhook_received", tracker=name, delivery=delivery, issue=verdict.issue)
        worker.wake()
        return JSONResponse({"status": "queued"}, 202)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "runs": worker.runs})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/webhooks/{tracker}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )


def _refused(tracker: str, kind: str, status: int, reason: str) -> Response:
    """Answer `status`, and log why: never the body, a header's value or a secret."""
    from starlette.responses import JSONResponse

    log.warning("webhook_refused", tracker=tracker, kind=kind, status=status, reason=reason)
    return JSONResponse({"error": reason}, status)


def _secrets(settings: Settings, name: str) -> webhooks.Secrets | None:
    """A tracker's webhook secrets from their files; None when it has none configured."""
    config = settings.trackers[name]
    signing = _read(settings, config.webhook_secret_file)
    token = _read(settings, getattr(config, "webhook_token_file", None))
    if signing is None and token is None:
        return None
    return webhooks.Secrets(signing, token)


def _read(settings: Settings, path: Any) -> bytes | None:
    """A secret from its file; a ConfigError naming the file when it cannot be read."""
    if path is None:
        return None
    try:
        return settings.path(path).read_bytes().strip()
    except OSError as exc:
        problem = f"webhook secret {path}: cannot read: {exc.strerror or exc}"
        raise ConfigError([problem], settings.origin or "settings") from exc


@dataclass(slots=True)
class Serving:
    """A running server: its address, the worker, and how to stop it."""

    url: str
    worker: Worker
    stop: Callable[[], None]


def start(
    settings: Settings,
    apply: Callable[[], None],
    *,
    host: str | None = None,
    port: int | None = None,
    epoch: Callable[[], float] = time.time,
) -> Serving:
    """Serve in a background thread until `stop` (or SIGTERM through `STOPPING`)."""
    import uvicorn

    folder = settings.path(settings.state_dir)
    deliveries = Deliveries.load(folder / DELIVERIES_FILE)
    worker = Worker(apply, deliveries)
    app = application(settings, worker, deliveries, epoch)
    config = uvicorn.Config(
        app,
        host=host or settings.serve.host,
        port=settings.serve.port if port is None else port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    started = threading.Event()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(server.serve())
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="pmsync-serve", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            started.set()
            break
        if not thread.is_alive():
            break
        time.sleep(0.025)
    if not started.is_set():
        raise OSError(f"cannot serve on {config.host}:{config.port}")
    worker.start()
    bound = server.servers[0].sockets[0].getsockname()
    url = f"http://{bound[0]}:{bound[1]}"
    log.info("serving", url=url, webhooks=sorted(n for n in settings.trackers))

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        deliveries.save()

    return Serving(url, worker, stop)


def run_serve(
    settings: Settings,
    clock: Callable[[], datetime],
    wait_lock: float,
    host: str | None = None,
    port: int | None = None,
) -> int:
    """`pmsync serve`: webhooks, health and metrics until SIGTERM or SIGINT (on `host` and
    `port`, else `[serve]`'s); each wake of the worker is a sync and a check, under the
    state's lock (a scheduled run elsewhere waits its turn)."""
    from syncer import scheduler
    from syncer.metrics import prepare

    job = scheduler.webhook_job(settings, clock)
    prepare(settings.trackers, settings.sources)

    def apply() -> None:
        with scheduler.run_lock(settings, wait_lock):
            job()

    with scheduler.stoppable():
        serving = start(settings, apply, host=host, port=port)
        try:
            while not STOPPING.is_set():
                STOPPING.wait(0.5)
        finally:
            serving.stop()
    return 0
