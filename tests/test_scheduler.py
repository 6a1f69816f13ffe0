"""`pmsync run`: the loop on a seconds-scale schedule in a subprocess against the fake GitHub
server, guarded jobs, the single-instance lock, SIGTERM, the heartbeat, digests once a period."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from syncer import logs
from syncer.cli import main
from syncer.errors import STOPPING, Locked
from syncer.scheduler import (
    EXIT_LOCKED,
    HEARTBEAT_FILE,
    digest_due,
    digest_job,
    health,
    run_forever,
    run_lock,
    run_once,
)
from syncer.settings import Settings, load_settings
from tests.fakes.github import FakeGitHub, Fault
from tests.test_metrics import figures
from tests.waiting import until

ITEMS = 12
DOC = (
    "---\nid: PM-1\ntitle: Outage\ndate: 2026-03-02\nteam: payments\n---\n# Outage\n\n## Action items\n\n"
    + "".join(
        f"- [ ] Add alert number {n} on the checkout pool (Owner: Dana Kim, Due: 2026-09-{n:02d})\n"
        for n in range(1, ITEMS + 1)
    )
)
PEOPLE = '[[people]]\nname = "Dana Kim"\ngithub = "dana"\n'


def _config(tmp_path: Path, extra: str = "", tracker: str = "") -> Settings:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "pm-1.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    tracker = tracker or '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        + tracker
        + extra
    )
    return load_settings(tmp_path / "config.toml")


def _github(fake: FakeGitHub) -> str:
    return (
        f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
        "write_interval_seconds = 0\nretry_backoff_seconds = 0.01\n"
        '[routing]\ndefault = "gh"\n'
    )


def _pmsync(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, log: IO[str] | None = None
) -> subprocess.Popen[str]:
    """pmsync in a process of its own; its stderr (the log) piped, or written to `log` so a
    test can read it while the process runs."""
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", "--config", str(tmp_path / "config.toml"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if log is None else log,
        text=True,
        env={**os.environ, "GITHUB_TOKEN": "ghp_" + "t" * 36, **(env or {})},
    )


def _events(stderr: str) -> list[dict[str, Any]]:
    """The JSON log events, up to the last whole line (the process may be writing the next)."""
    found = []
    for line in stderr[: stderr.rfind("\n") + 1].splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def _items(fake: FakeGitHub) -> int:
    """Action-item issues (the check also opens a follow-up review issue per post-mortem)."""
    return sum(1 for i in fake.issues.values() if not i["title"].startswith("Follow-up review"))


def _stop_when(
    process: subprocess.Popen[str],
    fake: FakeGitHub,
    items: int,
    within: float,
    posted: int = 0,
) -> tuple[str, str, float]:
    """SIGTERM to `process` once the fake holds `items` item issues (and has been sent
    `posted` issue creations): its output, and how long it took to end after the signal."""
    try:
        until(lambda: _items(fake) >= items and fake.count()["POST issues"] >= posted, within)
    finally:
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    return out, err, time.monotonic() - stopped_at


def _unique_titles(fake: FakeGitHub) -> bool:
    titles = [issue["title"] for issue in fake.issues.values()]
    return len(titles) == len(set(titles))


def test_the_daemon_runs_on_time_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    fake = FakeGitHub(collaborators={"dana"})
    log = tmp_path / "daemon.log"

    def ended(job: str, code: int | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in _events(log.read_text())
            if e["event"] == "run_finished" and e["job"] == job and code in (None, e["code"])
        ]

    def failed() -> list[dict[str, Any]]:
        return [e for e in _events(log.read_text()) if e["event"] == "job_failed"]

    with fake.running(), log.open("w") as written_log:
        _config(
            tmp_path,
            "[schedule]\nsync_every_minutes = 0.02\ncheck_every_minutes = 0.05\n",
            _github(fake),
        )
        daemon = _pmsync(tmp_path, "run", log=written_log)
        until(lambda: ended("sync", 0))
        probe = _pmsync(tmp_path, "health")
        assert probe.communicate(timeout=30)[0].startswith("healthy")
        assert probe.returncode == 0
        # Take the people file away: the jobs raise (a config error) until it is back.
        people = tmp_path / "people.toml"
        people.rename(tmp_path / "people.away")
        until(failed)
        (tmp_path / "people.away").rename(people)
        until(lambda: [e for e in ended("sync", 0) if e["timestamp"] > failed()[-1]["timestamp"]])
        # On time: a sync every 1.2 s and a check every 3 s went on all along.
        until(lambda: len(ended("sync")) >= 6 and len(ended("check")) >= 2)
        # Slow every write down, let a fresh sync start, then stop it halfway.
        fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.5, times=99))
        (tmp_path / "docs" / "pm-2.md").write_text(
            DOC.replace("PM-1", "PM-2").replace("Outage", "Second outage").replace("alert", "probe")
        )
        _, _, took = _stop_when(daemon, fake, ITEMS + 2, within=10)
        written = _items(fake)
    err = log.read_text()

    events = _events(err)
    syncs = [e for e in events if e["event"] == "run_finished" and e["job"] == "sync"]
    checks = [e for e in events if e["event"] == "run_finished" and e["job"] == "check"]
    assert daemon.returncode == 0
    assert took < 5
    # every second or so a sync, every three seconds a check, each with its own run id
    assert len(syncs) >= 6
    crashed = [e for e in events if e["event"] == "job_failed"]  # a config error: no traceback
    assert crashed
    assert not [e for e in events if e["event"] == "job_crashed"]
    assert "people_file: cannot read" in crashed[0]["error"]
    assert "exception" not in crashed[0]
    assert crashed[0]["run_id"] in {e["run_id"] for e in syncs + checks}
    assert all(
        e["code"] == 2 for e in syncs + checks if e["run_id"] in {c["run_id"] for c in crashed}
    )
    after = [e for e in syncs if e["timestamp"] > crashed[-1]["timestamp"] and e["code"] != 2]
    assert after
    assert after[0]["code"] == 0
    assert 2 <= len(checks) <= len(syncs)
    assert len({e["run_id"] for e in syncs + checks}) == len(syncs) + len(checks)
    assert [e["created"] for e in syncs if e["code"] == 0][:2] == [ITEMS, 0]
    assert syncs[-1]["stopped"] is True
    assert syncs[-1]["failed"] > 0
    assert ITEMS < written < 2 * ITEMS
    assert _unique_titles(fake)
    assert any(e["event"] == "loop_stopped" for e in events)

    # The next run files the rest, once.
    with fake.running():
        _config(tmp_path, "", _github(fake))
        # A Wednesday noon: the weekly digest is due, whatever day the suite runs.
        once = _pmsync(tmp_path, "run", "--once", env={"PMSYNC_NOW": "2026-03-04T12:00:00+00:00"})
        _, err = once.communicate(timeout=60)
    assert once.returncode == 0, err
    once_events = _events(err)
    [finished] = [e for e in once_events if e["event"] == "run_finished"]
    assert finished["code"] == 0
    assert finished["sync_created"] == ITEMS - (written - ITEMS)
    assert finished["sync_failed"] == 0
    assert "check_flagged" in finished
    assert finished["digest_due"] is True
    assert {e.get("run_id") for e in once_events if "job" in e} == {finished["run_id"]}
    assert _items(fake) == 2 * ITEMS
    assert _unique_titles(fake)


def test_two_runs_at_once_do_one_runs_writes(tmp_path: Path) -> None:
    fake = FakeGitHub(collaborators={"dana"})
    with fake.running():
        _config(tmp_path, "", _github(fake))
        fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.05, times=99))
        first, second = _pmsync(tmp_path, "run", "--once"), _pmsync(tmp_path, "run", "--once")
        results = [p.communicate(timeout=60) for p in (first, second)]
        writes = fake.writes()
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, EXIT_LOCKED]
    loser = results[[first.returncode, second.returncode].index(EXIT_LOCKED)][1]
    assert "another pmsync run is active (pid" in loser
    assert _items(fake) == ITEMS
    assert _unique_titles(fake)
    assert writes >= ITEMS


@pytest.mark.parametrize("command", ["sync", "check", "digest"])
def test_every_writing_command_takes_the_runs_lock(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _config(tmp_path)
    config = str(tmp_path / "config.toml")
    at = ["--now", "2026-03-04T10:00"] if command != "sync" else []
    with run_lock(settings):
        assert main([command, "--config", config, *at]) == EXIT_LOCKED
        assert "another pmsync run is active (pid" in capsys.readouterr().err
        # A dry run writes nothing, so it needs no lock.
        assert main([command, "--config", config, "--dry-run", *at]) != EXIT_LOCKED
    held = threading.Event()

    def hold_briefly() -> None:
        with run_lock(settings):
            held.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    held.wait(5)
    started = time.monotonic()
    code = main([command, "--config", config, "--wait-lock", "30", *at])
    holder.join()
    assert code != EXIT_LOCKED
    assert time.monotonic() - started >= 0.2  # it waited for the holder


def test_a_state_dir_that_is_a_file_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(tmp_path)
    (tmp_path / "state").write_text("not a folder")
    config = tmp_path / "config.toml"
    config.write_text('state_dir = "state"\n' + config.read_text())
    for command in (["sync"], ["plan"], ["check"], ["config", "check"]):
        assert main([*command, "--config", str(config)]) == 2, command
        assert "state_dir: " in capsys.readouterr().err


def test_a_killed_run_does_not_leave_the_lock_behind(tmp_path: Path) -> None:
    settings = _config(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from syncer.settings import load_settings\n"
            "from syncer.scheduler import run_lock\n"
            "with run_lock(load_settings(Path(sys.argv[1]))):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(tmp_path / "config.toml"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(Locked, match=f"pid {holder.pid}"), run_lock(settings):
        pass
    holder.kill()
    holder.wait()
    with run_lock(settings) as path:
        assert path.read_text().startswith(f"pid {os.getpid()}")


def test_a_job_that_raises_does_not_stop_the_next(tmp_path: Path) -> None:
    settings = _config(
        tmp_path, "[schedule]\nsync_every_minutes = 0.02\ncheck_every_minutes = 0.02\n"
    )
    ran: list[str] = []

    def boom(settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
        ran.append("boom")
        raise RuntimeError("tracker exploded")

    def fine(settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
        ran.append("fine")
        return 0, {"done": 1}

    def stop_after_two_of_each() -> None:
        try:
            until(lambda: ran.count("boom") >= 2 and ran.count("fine") >= 2)
        finally:
            STOPPING.set()

    stopper = threading.Thread(target=stop_after_two_of_each)
    stopper.start()
    code = run_forever(
        settings, lambda: datetime.now(UTC), jobs={"sync": boom, "check": fine}, tick=0.1
    )
    stopper.join()
    assert code == 0
    assert ran.count("boom") >= 2
    assert ran.count("fine") >= 2
    assert ran.index("fine") > ran.index("boom")
    assert run_once(settings, lambda: datetime.now(UTC), jobs={"sync": boom, "check": fine}) == 3
    assert ran[-2:] == ["boom", "fine"]


def test_health_follows_the_heartbeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syncer.cli import main

    settings = _config(tmp_path, "[schedule]\nheartbeat_max_age_seconds = 60\n")
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert health(settings, now)[0] is False  # never started
    run_once(settings, lambda: now, jobs={})
    assert health(settings, now + timedelta(seconds=30)) == (
        True,
        "healthy: last heartbeat 30 s ago",
    )
    ok, why = health(settings, now + timedelta(seconds=61))
    assert not ok
    assert "the loop is stuck or gone" in why
    assert main(["--config", str(tmp_path / "config.toml"), "health"]) == 1  # beat in 2026-03
    heartbeat = settings.path(settings.state_dir) / HEARTBEAT_FILE
    heartbeat.write_text(json.dumps({"at": datetime.now(UTC).isoformat()}))
    assert main(["--config", str(tmp_path / "config.toml"), "health"]) == 0
    assert "healthy" in capsys.readouterr().out


def test_hourly_once_runs_send_one_digest_a_week(tmp_path: Path) -> None:
    settings = _config(
        tmp_path,
        '[schedule]\ndigest_weekday = "tuesday"\ndigest_time = "09:30"\n'
        'timezone = "America/New_York"\n[digest.lists.lead]\nchannels = ["file://out"]\n',
    )
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a Monday morning in New York
    sent: list[str] = []
    for hour in range(24 * 13):
        now = start + timedelta(hours=hour)
        before = set((tmp_path / "out").glob("*.txt")) if (tmp_path / "out").exists() else set()
        run_once(settings, lambda now=now: now, jobs={"digest": digest_job})
        after = set((tmp_path / "out").glob("*.txt")) if (tmp_path / "out").exists() else set()
        sent += [f"{now:%a %H:%M} {p.name}" for p in after - before]
    # 09:30 in New York is 14:30 UTC before DST starts (8 March 2026), 13:30 after
    assert sent == ["Tue 15:00 lead-2026-W10.txt", "Tue 14:00 lead-2026-W11.txt"]


def test_digest_due() -> None:
    settings = Settings.model_validate(
        {"schedule": {"digest_weekday": "monday", "digest_time": "09:00", "timezone": "Asia/Tokyo"}}
    )
    assert not digest_due(settings, datetime(2026, 3, 1, 23, 59, tzinfo=UTC))  # Mon 08:59 JST
    assert digest_due(settings, datetime(2026, 3, 2, 0, 0, tzinfo=UTC))  # Mon 09:00 JST
    assert digest_due(settings, datetime(2026, 3, 5, 0, 0, tzinfo=UTC))  # later that week


def test_an_unknown_time_zone_is_a_config_error(tmp_path: Path) -> None:
    from syncer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"schedule\.timezone"):
        _config(tmp_path, '[schedule]\ntimezone = "Mars/Olympus"\n')


def test_metrics_while_the_loop_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    from prometheus_client import generate_latest

    from syncer.scheduler import check_job, sync_job

    fake = FakeGitHub(collaborators={"dana"})
    stream = io.StringIO()
    logs.configure("info", json=True, stream=stream)  # to read the port the endpoint got
    before = figures(generate_latest().decode())  # the process's counters, as they stand
    scraped: list[str] = []

    def scrape() -> str:
        """The endpoint's figures, once a check of this loop has counted the items."""
        ports = [e["port"] for e in _events(stream.getvalue()) if e["event"] == "metrics_serving"]
        if not ports:
            return ""
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/metrics", timeout=5) as answer:
            text = str(answer.read().decode())
        checked = 'pmsync_job_runs_total{code="0",job="check"}'
        return text if figures(text).get(checked, 0) > before.get(checked, 0) else ""

    def stop_once_counted() -> None:
        try:
            until(scrape)
        finally:
            STOPPING.set()

    with fake.running():
        tracker = _github(fake).replace("trackers.gh]", "trackers.metrics-gh]")
        tracker = tracker.replace('default = "gh"', 'default = "metrics-gh"')
        settings = _config(tmp_path, '[metrics]\nport = 0\nhost = "127.0.0.1"\n', tracker)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        stopper = threading.Thread(target=stop_once_counted)
        stopper.start()
        run_forever(
            settings, lambda: datetime.now(UTC), {"sync": sync_job, "check": check_job}, 0.1
        )
        stopper.join()
        # The endpoint outlives the loop (a daemon thread), so the figures can be read at rest.
        scraped.append(scrape())
        requests = len(fake.requests)
    [text] = scraped
    counted = re.compile(r"^pmsync_\w+_(total|count|sum|bucket)\{")
    values = {  # counters as what this loop added to them; gauges as they are
        name: value - before.get(name, 0.0) if counted.match(name) else value
        for name, value in figures(text).items()
        if 'tracker="metrics-gh"' in name or name.startswith("pmsync_job")
    }
    opened = sum(issue["state"] == "open" for issue in fake.issues.values())
    assert values['pmsync_items{state="open",tracker="metrics-gh"}'] == opened  # with the review
    assert values['pmsync_items{state="done",tracker="metrics-gh"}'] == 0
    assert values['pmsync_items{state="dropped",tracker="metrics-gh"}'] == 0
    states = [v for k, v in values.items() if k.startswith("pmsync_items{")]
    assert sum(states) == len(fake.issues)  # open, done and dropped do not overlap
    assert values['pmsync_items_overdue{tracker="metrics-gh"}'] <= opened
    assert values['pmsync_api_requests_total{outcome="error",tracker="metrics-gh",verb="PUT"}'] == 0
    assert values['pmsync_rate_limit_remaining{tracker="metrics-gh"}'] == fake.rate_remaining
    assert values['pmsync_api_requests_total{outcome="ok",tracker="metrics-gh",verb="POST"}'] > 0
    made = sum(v for k, v in values.items() if k.startswith("pmsync_api_requests_total{"))
    assert made == requests
    assert values['pmsync_job_runs_total{code="0",job="sync"}'] >= 1
    assert values['pmsync_job_duration_seconds_count{job="check"}'] >= 1


def test_sigterm_cuts_a_long_rate_limit_wait_short(tmp_path: Path) -> None:
    fake = FakeGitHub(collaborators={"dana"})
    with fake.running():
        _config(tmp_path, "", _github(fake))
        fake.faults.append(
            Fault("POST", r"/issues$", status=429, headers={"retry-after": "120"}, times=99)
        )
        log = tmp_path / "run.log"
        with log.open("w") as written_log:
            once = _pmsync(tmp_path, "run", "--once", log=written_log)
            # Now waiting out the 120 s the server asked for.
            until(lambda: '"event": "tracker_waiting"' in log.read_text())
            stopped_at = time.monotonic()
            once.send_signal(signal.SIGTERM)
            once.communicate(timeout=10)
            took = time.monotonic() - stopped_at
        err = log.read_text()
    assert once.returncode == 0
    assert took < 5
    assert '"event": "tracker_waiting"' in err
    assert _items(fake) == 0


def test_a_run_that_has_only_just_taken_the_lock_is_named(tmp_path: Path) -> None:
    """The holder writes who it is a moment after it takes the lock: a run refused in that
    moment still says who holds it."""
    from syncer.scheduler import LOCK_FILE, _try_lock

    settings = _config(tmp_path)
    with (settings.state_folder() / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        assert _try_lock(handle)  # taken, nothing written yet

        def write() -> None:
            handle.write("pid 4242 since 2026-03-04T10:00:00+00:00")
            handle.flush()

        later = threading.Timer(0.1, write)
        later.start()
        with pytest.raises(Locked, match=r"\(pid 4242 since"), run_lock(settings):
            pass
        later.join()


def test_a_configuration_error_under_run_once_is_exit_2_without_a_traceback(
    tmp_path: Path,
) -> None:
    """A missing token is caught before the run starts; a repository the tracker does not have
    is found by the first job, which stops the run. Either way: exit 2, the setting named, and
    no traceback on standard output, standard error or in the JSON log."""
    fake = FakeGitHub()
    with fake.running():
        _config(tmp_path, tracker=_github(fake))
        done = _pmsync(tmp_path, "run", "--once", env={"GITHUB_TOKEN": ""})
        out, err = done.communicate(timeout=60)
        assert done.returncode == 2
        assert "config error" in err
        assert "trackers.gh.token" in err
        assert "Traceback" not in out + err
        _config(tmp_path, tracker=_github(fake).replace("acme/incidents", "acme/missing"))
        done = _pmsync(tmp_path, "run", "--once")
        out, err = done.communicate(timeout=60)
    assert done.returncode == 2
    assert out.strip() == "sync: exit 2"
    assert "Traceback" not in out + err
    (failed,) = [e for e in _events(err) if e["event"] == "job_failed"]
    assert "trackers.gh.repo" in failed["error"]
    assert "exception" not in failed


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_skips_state_writes_and_health_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every write to the state folder answers ENOSPC (its files lead to /dev/full): the run
    does its jobs, skips the heartbeat and the lock's note of who holds it, leaves no
    temporary file behind, and `health` reports the missing heartbeat."""
    settings = _config(tmp_path)
    state = settings.path(settings.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    for name in ("heartbeat.tmp", "pmsync.lock", "documents.tmp"):
        (state / name).symlink_to("/dev/full")
    config = str(tmp_path / "config.toml")
    assert main(["--config", config, "run", "--once"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("sync: created")
    assert "Traceback" not in out + err
    assert not (state / "heartbeat.json").exists()
    assert not (state / "heartbeat.tmp").exists()  # nothing half written left
    assert main(["--config", config, "health"]) == 1
    assert "no heartbeat" in capsys.readouterr().out


def test_the_daemon_lives_through_a_state_file_it_cannot_write_and_health_names_it(
    tmp_path: Path,
) -> None:
    """The documents' state cannot be written, run after run (its temporary file is taken by
    a folder): the daemon keeps running its jobs, `health` names the file and the error, and
    says healthy again once a write succeeds."""
    settings = _config(tmp_path, "[schedule]\nsync_every_minutes = 0.02\n")
    state = settings.path(settings.state_dir)
    (state / "documents.tmp").mkdir(parents=True)
    log = tmp_path / "daemon.log"
    written_log = log.open("w")
    daemon = _pmsync(tmp_path, "run", log=written_log)

    def unwritable() -> int:
        return sum(e["event"] == "document_state_unwritable" for e in _events(log.read_text()))

    try:
        answer = _health_until(tmp_path, "the loop cannot write its state")
        assert "documents.json: Is a directory (needs" in answer
        until(lambda: unwritable() >= 3)  # two more syncs
        assert daemon.poll() is None  # alive
        assert "documents.json: Is a directory" in _health_until(tmp_path, "cannot write")
        (state / "documents.tmp").rmdir()  # writable again
        assert _health_until(tmp_path, "healthy").startswith("healthy")
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
        written_log.close()
    assert daemon.returncode == 0
    assert "Traceback" not in log.read_text()


def _health_until(tmp_path: Path, expected: str, within: float = 30) -> str:
    """`pmsync health`'s answer, asked until it starts with or holds `expected`."""
    deadline = time.monotonic() + within
    while True:
        probe = _pmsync(tmp_path, "health")
        answer = probe.communicate(timeout=30)[0]
        if expected in answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_state_files_that_cannot_be_written_are_a_metric_until_written(tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    from syncer import statefile

    def unwritable() -> float | None:
        return REGISTRY.get_sample_value("pmsync_state_files_unwritable")

    before = unwritable()
    assert before is not None
    path = tmp_path / "pages.json"
    (tmp_path / "pages.tmp").mkdir()  # the write cannot be made
    assert not statefile.save(path, {"a": 1}, "test_unsaved")
    assert not statefile.save(path, {"a": 1}, "test_unsaved")
    assert unwritable() == before + 1
    assert not path.exists()
    (tmp_path / "pages.tmp").rmdir()
    assert statefile.save(path, {"a": 1}, "test_unsaved")
    assert unwritable() == before


@pytest.mark.parametrize("fault", ["slow", "retry-after"])
def test_sigterm_stops_a_sync_cleanly_and_the_next_files_the_rest(
    tmp_path: Path, fault: str
) -> None:
    """SIGTERM to `pmsync sync` while it files issues, or while it waits out a long
    Retry-After: it ends within 5 s with its summary, and the next sync files the rest once."""
    fake = FakeGitHub(collaborators={"dana"})
    with fake.running():
        _config(tmp_path, "", _github(fake))
        if fault == "slow":
            fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.3, times=99))
        else:
            fake.faults.append(
                Fault("POST", r"/issues$", status=429, headers={"retry-after": "120"}, skip=2)
            )
        sync_process = _pmsync(tmp_path, "sync")
        # Two issues filed and the third on its way: slowly, or answered "retry in 120 s".
        out, err, took = _stop_when(sync_process, fake, 2, within=20, posted=3)
        written = _items(fake)
        assert took < 5
        assert sync_process.returncode == 1  # what was not written is counted as failed
        assert f"created {written}," in out.splitlines()[-2]
        assert out.splitlines()[-1] == "stopped by a signal: the next sync writes the rest"
        assert "Traceback" not in err
        assert 2 <= written < ITEMS
        assert fake.commits  # the lease was taken
        assert fake.refs == {}  # and released
        fake.faults.clear()
        again = _pmsync(tmp_path, "sync")
        out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"created {ITEMS - written}," in out
    assert _items(fake) == ITEMS
    assert _unique_titles(fake)
