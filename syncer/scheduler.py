"""`pmsync run`: the whole loop (sync, check, digest) on the `[schedule]` cadence, or once.

- One run at a time: an exclusive `flock` on `<state_dir>/pmsync.lock`. The kernel drops it
  when the holder dies, however it dies, so a killed run never blocks the next. It needs the
  state directory on a disk every runner shares (a local volume; NFS locks are not to be trusted).
- Each job is guarded: an exception is logged with its run id and the loop goes on; jobs run one
  after another in the loop's thread, so a job still running is never started again.
- SIGTERM and SIGINT set `STOPPING`: the write under way finishes, the rest is left for the
  next run (writers check it between writes), and the process exits 0.
- The loop beats a heartbeat file that `pmsync health` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, TextIO
from zoneinfo import ZoneInfo

import schedule
import structlog

from syncer import logs, statefile
from syncer.check import check
from syncer.digest import digest
from syncer.errors import STOPPING, ConfigError, Locked
from syncer.metrics import prepare, record_job, serve
from syncer.pipeline import sync
from syncer.settings import Settings

log = logs.get_logger("pmsync.run")

EXIT_OK, EXIT_FAILURES, EXIT_CONFIG, EXIT_FATAL, EXIT_LOCKED = 0, 1, 2, 3, 4
LOCK_FILE = "pmsync.lock"
HEARTBEAT_FILE = "heartbeat.json"
BEAT_EVERY = 10.0  # seconds between heartbeats while the loop idles
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

Clock = Callable[[], datetime]
Job = Callable[[Settings, datetime], tuple[int, dict[str, Any]]]


@contextmanager
def run_lock(settings: Settings, wait: float = 0.0) -> Iterator[Path]:
    """Hold `<state_dir>/pmsync.lock` for the block, waiting up to `wait` seconds for another
    run to finish; else raise `Locked` naming the holder."""
    path = settings.state_folder() / LOCK_FILE
    try:
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        problem = f"state_dir: cannot open the lock {path}: {exc.strerror or exc}"
        raise ConfigError([problem], settings.origin or "settings") from None
    deadline = time.monotonic() + wait
    try:
        while True:
            if _try_lock(handle):
                break
            if time.monotonic() < deadline and not STOPPING.is_set():
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                continue
            raise Locked(f"another pmsync run is active ({_holder(handle)}); lock: {path}")
        try:  # who holds it, for a run that finds it taken; the lock holds without it
            handle.seek(0)
            handle.truncate()
            handle.write(
                f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}"
            )
            handle.flush()
        except OSError as exc:
            log.warning("lock_holder_unwritten", path=str(path), error=exc.strerror or str(exc))
        yield path
    finally:
        handle.close()  # closing drops the lock


def _holder(handle: IO[str]) -> str:
    """Who holds the lock, as they wrote it in the file. A run that has just taken the lock
    writes that a moment later: an empty file is read again, briefly, before "unknown"."""
    for _ in range(20):
        try:
            handle.seek(0)
            written = handle.read().strip()
        except OSError:  # Windows keeps a locked byte from other processes
            return "unknown"
        if written:
            return written
        time.sleep(0.025)
    return "unknown"


def _try_lock(handle: IO[str]) -> bool:
    """Take the file's lock without waiting; False when another process holds it. The lock
    goes with the file's closing, or the process's end however it ends."""
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # POSIX: imported here, so that the rest of pmsync loads anywhere

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def beat(settings: Settings, now: datetime, **state: Any) -> None:
    """Write the heartbeat (atomically: health never reads half a file). On a full or
    read-only disk the beat is skipped and logged: the loop lives on, and `health` reports it
    stale until a beat is written again."""
    path = settings.path(settings.state_dir) / HEARTBEAT_FILE
    faults = {
        name: fault
        for name, fault in statefile.faults().items()
        if name != str(path) and Path(name).is_relative_to(path.parent)
    }
    data = {"at": now.isoformat(), "pid": os.getpid(), **state, "faults": faults}
    statefile.save(path, data, "heartbeat_unwritten")


def health(settings: Settings, now: datetime) -> tuple[bool, str]:
    """Whether the loop beat within `heartbeat_max_age_seconds` and can write its state (the
    state folder takes a small file, and the loop's last beat names no state file it failed
    to write), and why not."""
    folder = settings.path(settings.state_dir)
    path = folder / HEARTBEAT_FILE
    probe = folder / ".health-probe"
    try:
        probe.write_text(str(os.getpid()), encoding="utf-8")
        probe.unlink()
    except FileNotFoundError:
        pass  # no state folder yet: the heartbeat says the loop has not started
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        return False, f"the state folder {folder} cannot be written: {exc.strerror or exc}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        at = datetime.fromisoformat(data["at"])
    except FileNotFoundError:
        return False, f"no heartbeat at {path}: the loop has not started"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable heartbeat {path}: {exc}"
    age = (now - at).total_seconds()
    limit = settings.schedule.heartbeat_max_age_seconds
    if age > limit:
        return False, f"last heartbeat {age:.0f} s ago (limit {limit} s): the loop is stuck or gone"
    faults = data.get("faults") if isinstance(data, dict) else None
    if isinstance(faults, dict) and faults:
        failing = "; ".join(
            f"{name}: {fault.get('error')} (needs {fault.get('needs_bytes')} bytes, "
            f"since {fault.get('since')})"
            for name, fault in sorted(faults.items())
            if isinstance(fault, dict)
        )
        return False, f"the loop cannot write its state: {failing}"
    return True, f"healthy: last heartbeat {age:.0f} s ago"


def digest_due(settings: Settings, now: datetime) -> bool:
    """Whether this period's digest time has come, in `[schedule] timezone`. The digest itself
    sends once per recipient, channel and period, so asking every hour sends one per period."""
    plan = settings.schedule
    local = now.astimezone(ZoneInfo(plan.timezone))
    hour, minute = (int(part) for part in plan.digest_time.split(":"))
    past_time = (local.hour, local.minute) >= (hour, minute)
    if settings.digest.period == "day":
        return past_time
    weekday = _WEEKDAYS.index(plan.digest_weekday)
    return local.weekday() > weekday or (local.weekday() == weekday and past_time)


# --- the jobs ---------------------------------------------------------------------------------


def _code(problems: list[Any], failed: int) -> int:
    if any(p.fatal for p in problems):
        return EXIT_FATAL
    return EXIT_FAILURES if failed or problems else EXIT_OK


def sync_job(settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
    run = sync(settings, dry_run=False)
    counts = run.counts()
    return _code(run.problems, counts["failed"]), counts


def check_job(settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
    run = check(settings, now=now, dry_run=False)
    counts = run.counts()
    return _code(run.problems, counts["failed"] + counts["not_checked"]), counts


def digest_job(settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
    if not digest_due(settings, now):
        return EXIT_OK, {"due": False}
    run = digest(settings, now=now, dry_run=False)
    sent = sum(1 for d in run.deliveries if d.status == "sent")
    return _code(run.problems, run.failed), {"due": True, "sent": sent, "failed": run.failed}


JOBS: Mapping[str, Job] = {"sync": sync_job, "check": check_job, "digest": digest_job}


# One job at a time in a process: the scheduled ones and those the webhook receiver starts.
JOB_LOCK = threading.Lock()


@dataclass(slots=True)
class Guarded:
    """One job, guarded: a crash is logged and becomes exit code 3, never a stopped loop."""

    name: str
    job: Job
    settings: Settings
    clock: Clock
    last_code: int = EXIT_OK
    last_counts: dict[str, Any] = field(default_factory=dict)
    part_of_run: bool = False  # inside `run --once`: the run's id, and `job_finished`

    def __call__(self) -> None:
        if STOPPING.is_set():
            return
        bound = {} if self.part_of_run else {"run_id": uuid.uuid4().hex[:12]}
        started = time.monotonic()
        with JOB_LOCK, structlog.contextvars.bound_contextvars(**bound, job=self.name):
            try:
                code, counts = self.job(self.settings, self.clock())
            except ConfigError as exc:  # a setting the tracker or source refuses: say which
                log.error("job_failed", error=str(exc))
                code, counts = EXIT_CONFIG, {}
            except Exception as exc:
                log.exception("job_crashed", error=f"{type(exc).__name__}: {exc}")
                code, counts = EXIT_FATAL, {}
            self.last_code, self.last_counts = code, counts
            record_job(self.name, time.monotonic() - started, code)
            log.info(
                "job_finished" if self.part_of_run else "run_finished",
                code=code,
                seconds=round(time.monotonic() - started, 3),
                stopped=STOPPING.is_set(),
                **counts,
            )


def webhook_job(settings: Settings, clock: Clock) -> Callable[[], None]:
    """What a webhook delivery starts: a sync (the tracker re-read, the post-mortem written
    back), then a check (the flags, the metrics), each taking its turn with the schedule's."""
    steps = [Guarded(name, JOBS[name], settings, clock) for name in ("sync", "check")]

    def run() -> None:
        for step in steps:
            step()

    return run


def run_once(
    settings: Settings,
    clock: Clock,
    jobs: Mapping[str, Job] = JOBS,
    wait_lock: float = 0.0,
    out: TextIO | None = None,
) -> int:
    """Sync, check, then the digest if due: for cron and Kubernetes CronJobs. One run id for
    the whole run; `run_finished` at the end carries every job's counts (`sync_created`, ...)."""
    started = time.monotonic()
    with (
        structlog.contextvars.bound_contextvars(run_id=uuid.uuid4().hex[:12]),
        run_lock(settings, wait_lock),
        stoppable(),
    ):
        worst = EXIT_OK
        totals: dict[str, Any] = {}
        summary: list[str] = []
        for name, job in jobs.items():
            if STOPPING.is_set():
                break
            guarded = Guarded(name, job, settings, clock, part_of_run=True)
            guarded()
            worst = max(worst, guarded.last_code)
            if guarded.last_code == EXIT_CONFIG:
                worst = EXIT_CONFIG  # the same setting fails every job: say it once
                summary.append(_summary(name, guarded.last_code, guarded.last_counts))
                break
            totals |= {f"{name}_{key}": value for key, value in guarded.last_counts.items()}
            totals[f"{name}_code"] = guarded.last_code
            summary.append(_summary(name, guarded.last_code, guarded.last_counts))
        if out is not None:
            out.write("; ".join(summary) + "\n")
        beat(settings, clock(), mode="once")
        code = EXIT_OK if STOPPING.is_set() else worst
        log.info(
            "run_finished",
            code=code,
            seconds=round(time.monotonic() - started, 3),
            stopped=STOPPING.is_set(),
            **totals,
        )
        return code


def _summary(job: str, code: int, counts: Mapping[str, Any]) -> str:
    """`sync: created 3, unchanged 7`: what a job did, its zero counts left out."""
    shown = [
        f"{key.replace('_', ' ')} {value}"
        for key, value in counts.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    if code not in (EXIT_OK,) and not shown:
        shown = [f"exit {code}"]
    return f"{job}: {', '.join(shown) or 'nothing to do'}"


def run_forever(
    settings: Settings,
    clock: Clock,
    jobs: Mapping[str, Job] = JOBS,
    tick: float = 1.0,
    wait_lock: float = 0.0,
    with_server: bool = False,
) -> int:
    """The daemon: every job at once, then on its cadence, until SIGTERM or SIGINT; with
    `with_server`, the webhook receiver too (`syncer.server`), its syncs taking turns with the
    scheduled jobs."""
    plan = settings.schedule
    every = {
        "sync": plan.sync_every_minutes * 60,
        "check": plan.check_every_minutes * 60,
        "digest": 60.0,  # asks each minute whether the digest is due
    }
    with run_lock(settings, wait_lock), stoppable():
        if settings.metrics.port is not None or with_server:
            prepare(settings.trackers, settings.sources)
        if settings.metrics.port is not None:
            port = serve(settings.metrics.host, settings.metrics.port)
            log.info("metrics_serving", host=settings.metrics.host, port=port)
        scheduler = schedule.Scheduler()
        for name, job in jobs.items():
            seconds = max(1, round(every.get(name, 60.0)))
            scheduler.every(seconds).seconds.do(Guarded(name, job, settings, clock))
        log.info("loop_started", **{f"{n}_every_seconds": round(s) for n, s in every.items()})
        serving = None
        if with_server:
            from syncer.server import start

            serving = start(settings, webhook_job(settings, clock))
        scheduler.run_all()
        last_beat, beaten = float("-inf"), set[str]()
        while not STOPPING.is_set():
            # A beat every BEAT_EVERY seconds, and at once when a state write fails or mends.
            if time.monotonic() - last_beat >= BEAT_EVERY or set(statefile.faults()) != beaten:
                beat(settings, clock(), mode="loop")
                last_beat, beaten = time.monotonic(), set(statefile.faults())
            scheduler.run_pending()
            STOPPING.wait(tick)
        if serving is not None:
            serving.stop()
        log.info("loop_stopped")
    return EXIT_OK


@dataclass(slots=True)
class Stop:
    """Whether a signal stopped the block `stoppable` guarded."""

    signalled: bool = False


@contextmanager
def stoppable() -> Iterator[Stop]:
    """SIGTERM and SIGINT set `STOPPING` for the block: every command that writes stops
    cleanly (the write in flight finishes, waits end, what is left is counted as not done,
    the lease is released). `STOPPING` is clear before and after, and the signals' own
    handlers are back after it."""
    STOPPING.clear()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    _on_signals()
    stop = Stop()
    try:
        yield stop
    finally:
        stop.signalled = STOPPING.is_set()
        STOPPING.clear()
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _on_signals() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        STOPPING.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
