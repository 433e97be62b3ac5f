"""Fault scenarios on a site of real processes; every sequence number counted end to end.

Each scenario: `srs broker`, `srs core` and two cameras (tests.resilience.sim_edge,
10 messages/s each) run for a few seconds; the fault happens while they run; when it
ends, the clock starts and the checker waits until everything the cameras had
created by then is in core's database (the *recovery time*, printed for issue 21,
not asserted tightly); then the cameras stop making messages, the rest drains, and
every camera's outbox is compared with core's store: 0 lost and 0 duplicated is a
pass. "Minutes" offline are scaled down to tens of seconds so that CI can afford
them (the mechanism is the same: the outbox keeps, the link re-sends).

Issue 21 adds to each row what core said about the fault: whether it raised a
security alarm (a rejection burst, a security audit row: none is a pass where the
fault is SRS's own trouble), how many log lines it wrote a minute, and nothing
stored with a time in the future. Where the issue asks more of a scenario, the row
says it and a miss fails it: a store fault raises the operational alert and core
writes under 200 log lines a minute; core's outage leaves the broker's memory
within 10 % of what it was before; a killed edge leaves none of its children
running; a camera clock off is named in its status within a minute.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from srs.app.supervise import wait_for
from tests.procs import alive, descendants
from tests.resilience.hostile import Row
from tests.resilience.site import AlertWatch, Site, StatusWatch, rss_kb

RATE = 10.0  # messages/s per camera
CAMERAS = ("cam1", "cam2")
WARMUP_S = 3.0
RECOVERY_TIMEOUT_S = 90.0
RECOVERY_GOAL_S = 3.0  # issue 21: from the fault's end to everything stored
MAX_LOG_PER_MIN = 200  # issue 21: core's log during a store fault
RSS_GROWTH = 0.10  # issue 21: the broker's RSS after a core outage, against before
SETTLE_S = 3.0  # before the broker's RSS is read again after the catch-up
OFFLINE_S = 25.0  # "an edge offline for minutes", scaled for CI
ORPHAN_WAIT_S = 10.0  # a worker checks on its node every second


@dataclass(frozen=True)
class Scenario:
    name: str
    expected: str
    fault: Callable[[Site], str]  # does the fault; returns what happened, in words
    needs: Callable[[], str | None] = lambda: None  # a reason to skip, or None
    mount: bool = False  # core's data dir on a small tmpfs
    quiet: bool = False  # SRS's own trouble: no security alert may be raised for it
    security: dict[str, float] | None = None  # [security] for every process
    operational: bool = False  # a store fault: an operational alert, a bounded log
    broker_rss: bool = False  # the broker's RSS after the catch-up against before
    encoder: tuple[str, ...] = ()  # cameras that run the edge's encoder pool too


def run(scenario: Scenario, root: Path) -> Row:
    started = time.monotonic()
    core_dir = root / "core"
    mounted = False
    try:
        if scenario.mount:
            core_dir.mkdir(parents=True)
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=48m", "srs-fault", str(core_dir)], check=True
            )
            mounted = True
        with Site(root, core_dir=core_dir, security=scenario.security) as site:
            for cam in CAMERAS:
                site.add_camera(cam)
            site.start_broker()
            site.start_core()
            for cam in CAMERAS:
                extra = ["--encoder"] if cam in scenario.encoder else []
                site.start_edge(cam, RATE, clock_file=root / f"clock-{cam}", extra=extra)
            time.sleep(WARMUP_S)
            broker_pid = site.broker.process.pid if site.broker else 0
            rss_before = rss_kb(broker_pid)
            core_log = site.root / "logs" / "core.log"
            log_start = core_log.stat().st_size
            logged_from, fault_wall = time.monotonic(), time.time()
            watch = AlertWatch(site) if scenario.operational else None
            what = scenario.fault(site)
            fault_end = site.fault_ended or time.monotonic()
            recovery = site.time_to_store(fault_end, RECOVERY_TIMEOUT_S)
            time.sleep(1.0)
            site.stop_generating()
            site.time_to_store(time.monotonic(), RECOVERY_TIMEOUT_S)
            counts = site.count()
            where_lost = site.where_lost() if any(c.lost for c in counts) else ""
            alive = [c.name for c in site.sup.children if c.running]
            if scenario.broker_rss:
                time.sleep(SETTLE_S)
                what += "; " + broker_memory(site, broker_pid, rss_before)
            what += "; " + evidence(core_log, log_start)
            lines = _lines(core_log, log_start)
            per_min = lines / max(time.monotonic() - logged_from, 1.0) * 60
            alarms = security_alarms(core_log, log_start) + site.security_audit(fault_wall)
            future = site.future_sightings()
            if watch is not None:  # the alerts a dashboard got, by category
                watch.close()
                alarms += watch.count("security")
                operational = watch.count("operational")
                what += f"; alerts published: {operational} operational"
                if not operational:
                    site.problems.append("core published no operational alert")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(core_dir)], check=False)
    lost = sum(c.lost for c in counts)
    dup = sum(c.duplicated for c in counts)
    created = sum(c.created for c in counts)
    stored = sum(c.stored for c in counts)
    excused = sum(c.excused for c in counts)
    shown = "never" if recovery is None else f"{recovery:.1f} s"
    refused = f" ({excused} refused: captured with the clock ahead)" if excused else ""
    alarm = "no security alert" if not alarms else f"{alarms} security alert/audit line(s)"
    observed = (
        f"{what}; {stored}/{created} stored{refused}, {lost} lost, {dup} duplicated; "
        f"all stored {shown} after the fault ended; {alarm}; core logged "
        f"{lines} lines ({per_min:.0f}/min)"
        + (f"; {future} sightings stored in the future" if future else "")
    )
    if lost:
        observed += f" (lost: {where_lost})"
    problems = list(site.problems)
    if scenario.operational:
        if "core cannot write its database" not in _log_text(core_log, log_start):
            problems.append("core logged no operational alert")
        if per_min >= MAX_LOG_PER_MIN:
            problems.append(f"core logged {per_min:.0f} lines/min (at most {MAX_LOG_PER_MIN})")
    if problems:
        observed += "; " + "; ".join(f"PROBLEM: {p}" for p in problems)
    passed = lost == 0 and dup == 0 and created > 0 and future == 0 and not problems
    passed = passed and (alarms == 0 or not scenario.quiet)
    if len(alive) < 2 + len(CAMERAS):
        observed += f" (still running at the end: {', '.join(alive)})"
    return Row(
        scenario.name, scenario.expected, observed, passed, recovery, time.monotonic() - started
    )


def broker_memory(site: Site, pid: int, before_kb: int) -> str:
    """The broker's RSS now against ``before_kb`` (same process: not restarted)."""
    if site.broker is None or site.broker.process.pid != pid or not before_kb:
        return "broker restarted: its memory not compared"
    after_kb = rss_kb(pid)
    growth = after_kb / before_kb - 1
    said = (
        f"broker RSS {before_kb / 1024:.1f} MB before, {after_kb / 1024:.1f} MB after "
        f"the catch-up ({growth:+.0%})"
    )
    if growth > RSS_GROWTH:
        site.problems.append(f"the broker's RSS grew {growth:+.0%} (at most +{RSS_GROWTH:.0%})")
    return said


def _log_text(core_log: Path, start: int) -> str:
    with core_log.open("rb") as fh:
        fh.seek(start)
        return fh.read().decode(errors="replace")


def _lines(core_log: Path, start: int) -> int:
    return _log_text(core_log, start).count("\n")


# What core logs when it raises a security alarm (core/alerts.py RejectionWatch) or
# rejects a message as a security matter (core/status.py BurstLog).
SECURITY_SAID = (" messages rejected in ", "rejected a message on ")


def security_alarms(core_log: Path, start: int) -> int:
    text = _log_text(core_log, start)
    return sum(text.count(said) for said in SECURITY_SAID)


def evidence(core_log: Path, start: int) -> str:
    """What core said about the fault (so a pass shows the fault really bit)."""
    text = _log_text(core_log, start)
    failed = text.count("could not store a batch")
    said: list[str] = []
    for line in text.splitlines():
        for mark in (
            "rejected a message on",
            "core cannot write its database",
            "core can write its database again",
            "refused",
            "dropped a stale copy",
        ):
            if mark in line:
                sentence = (mark + line.split(mark, 1)[1])[:110]
                if not any(s.startswith(mark) for s in said):
                    said.append(sentence)
    parts = [f"core failed {failed} batch(es)"] if failed else []
    if said:
        parts.append("core said: " + "; ".join(f"“{s}”" for s in said[:4]))
    return ", ".join(parts) or "core logged no error"


# --- the faults -------------------------------------------------------------------


def broker_restart(sig: int, down_s: float = 3.0) -> Callable[[Site], str]:
    def fault(site: Site) -> str:
        site.signal(site.broker, sig)
        time.sleep(down_s)
        site.start_broker()
        return f"broker {signal.Signals(sig).name}, down {down_s:.0f} s"

    return fault


def core_kill9(site: Site, down_s: float = 10.0) -> str:
    site.signal(site.core, signal.SIGKILL)
    time.sleep(down_s)
    site.start_core()
    backlog = f"a {down_s * RATE * len(CAMERAS):.0f}-message backlog over {down_s:.0f} s"
    return f"core kill -9, {backlog}, restarted; {_core_up(site)}"


def _core_up(site: Site) -> str:
    """How long the restarted core took to reach the broker: its start-up (Python's
    imports, the store), part of the recovery time and no recovery path's doing."""
    started = site.fault_ended = time.monotonic()  # recovery counts from the restart
    if wait_for(lambda: site.core_connections() >= 2, 60, interval_s=0.05):
        return f"core connected {time.monotonic() - started:.1f} s after its restart"
    return "core did not connect within 60 s of its restart"


def core_paused(site: Site, paused_s: float = 10.0) -> str:
    """Core stopped (SIGSTOP: a hung or swapped-out process) and continued: no restart,
    its connection may have outlived the pause or not (keep-alive)."""
    assert site.core is not None
    site.core.process.send_signal(signal.SIGSTOP)
    time.sleep(paused_s)
    site.core.process.send_signal(signal.SIGCONT)
    return f"core paused (SIGSTOP) {paused_s:.0f} s, then continued"


def broker_down(site: Site) -> str:
    """The broker away for "minutes" (scaled) while the cameras keep capturing."""
    site.signal(site.broker, signal.SIGTERM)
    time.sleep(OFFLINE_S)
    site.start_broker()
    return f"broker down {OFFLINE_S:.0f} s (SIGTERM) while the cameras kept capturing"


def edge_offline(site: Site) -> str:
    site.relays["cam1"].cut()
    time.sleep(OFFLINE_S)
    site.relays["cam1"].restore()
    return f"cam1's network cut for {OFFLINE_S:.0f} s while it kept capturing"


def edge_kill9(site: Site) -> str:
    """cam1 runs the encoder pool as `srs edge` does: its forkserver, resource tracker
    and worker must end by themselves when it is killed outright (issue 21)."""
    node = site.edges["cam1"].process.pid
    # The pool is up once the worker runs (under the forkserver): three processes.
    wait_for(lambda: len(descendants(node)) >= 3, 60)
    children = descendants(node)
    site.relays["cam1"].cut()  # so that its outbox holds messages never sent
    time.sleep(5.0)
    site.signal(site.edges["cam1"], signal.SIGKILL)
    killed = time.monotonic()
    site.relays["cam1"].restore()
    site.start_edge("cam1", RATE, clock_file=site.root / "clock-cam1")
    site.fault_ended = time.monotonic()  # recovery counts from the restart
    gone = wait_for(lambda: not any(alive(pid) for pid in children), ORPHAN_WAIT_S)
    left = [f"{pid} ({cmd[:60]})" for pid, cmd in children.items() if alive(pid)]
    for pid in children:  # leave no orphan behind, even when failing
        if alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    if not children:
        site.problems.append("cam1's encoder pool never started: orphans not checked")
        orphans = "no children to check"
    elif gone:
        took = time.monotonic() - killed
        orphans = f"its {len(children)} child processes all gone {took:.1f} s later"
    else:
        orphans = f"{len(left)} of its {len(children)} children still running"
        site.problems.append(f"orphans of cam1 after {ORPHAN_WAIT_S:.0f} s: {', '.join(left)}")
    return f"cam1 kill -9 with ~50 unsent messages in its outbox, restarted; {orphans}"


def sqlite_locked(site: Site, hold_s: float = 15.0) -> str:
    with contextlib.closing(sqlite3.connect(site.core_db, timeout=30)) as db:
        db.execute("BEGIN EXCLUSIVE")
        time.sleep(hold_s)
        db.rollback()
    return f"core's database held by another writer for {hold_s:.0f} s (core waits 10 s)"


def disk_full(site: Site, hold_s: float = 12.0) -> str:
    filler = site.core_dir / "filler"
    with filler.open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * (1 << 20))
    time.sleep(hold_s)
    filler.unlink()
    return f"core's data dir (tmpfs) full for {hold_s:.0f} s"


def clock_off(off_s: float, hold_s: float = 15.0) -> Callable[[Site], str]:
    """cam1's clock off by ``off_s`` for ``hold_s``, then stepped right (as NTP would);
    says how soon cam1's status named the offset (issue 21: within a minute). Ahead,
    what it captured meanwhile may be refused for good (a sighting hours in the future
    would keep its person "present" for hours): those seqs are excused from "lost".
    Behind, it is held while the clock is wrong and stored once it is right."""

    def fault(site: Site) -> str:
        side = "ahead of" if off_s > 0 else "behind"
        watch = StatusWatch(site)
        first = site.created("cam1")
        try:
            clock = site.root / "clock-cam1"
            start = time.monotonic()
            clock.write_text(str(off_s))
            said = wait_for(lambda: watch.first(start, "cam1", side) is not None, hold_s)
            time.sleep(max(0.0, hold_s - (time.monotonic() - start)))
            clock.write_text("0")
            site.fault_ended = time.monotonic()  # recovery counts from the correction
            seen = watch.first(start, "cam1", side)
        finally:
            watch.close()
        time.sleep(1.5)  # the camera reads its clock file every second
        if off_s > 0:
            site.excused["cam1"] = set(range(first, site.created("cam1")))
        told = (
            f"its status said “{seen[1][:60]}” after {seen[0]:.1f} s"
            if said and seen
            else f"its status did NOT name the clock within {hold_s:.0f} s"
        )
        if not (said and seen):
            site.problems.append(f"cam1's status did not name its clock within {hold_s:.0f} s")
        hours = f"{abs(off_s) / 3600:.0f} h {side.split()[0]}"
        return f"cam1's clock {hours} for {hold_s:.0f} s, then corrected; {told}"

    return fault


def core_long_absence(site: Site, down_s: float = 30.0) -> str:
    """Core away longer than a message may live (max_message_age_s is scaled down to
    10 s for this run, as 4 minutes are against the default 120 s): the broker keeps
    every copy in core's session; they expire before core is back."""
    site.signal(site.core, signal.SIGTERM)
    time.sleep(down_s)
    site.start_core()
    expired = f"core stopped {down_s:.0f} s (messages live 10 s): its session's copies expired"
    return f"{expired}; {_core_up(site)}"


def _need_tmpfs() -> str | None:
    import os

    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs"
    probe = Path("/tmp") / f"srs-tmpfs-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "srs-probe", str(probe)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return f"cannot mount a tmpfs here: {done.stderr.strip()[:120]}"
        subprocess.run(["umount", str(probe)], check=False)
        return None
    finally:
        probe.rmdir()


ALL_STORED = "0 lost, 0 duplicated"
QUIET = f"{ALL_STORED}, no security alert"
OPERATIONAL = f"{QUIET}, an operational alert, under {MAX_LOG_PER_MIN} log lines/min"
SCENARIOS = [
    Scenario("broker restart (SIGTERM)", ALL_STORED, broker_restart(signal.SIGTERM)),
    Scenario("broker restart (SIGKILL)", ALL_STORED, broker_restart(signal.SIGKILL)),
    Scenario(f"broker down {OFFLINE_S:.0f} s", ALL_STORED, broker_down),
    Scenario("core kill -9 with a backlog", ALL_STORED, core_kill9, broker_rss=True),
    Scenario(
        "core paused 10 s",
        f"{ALL_STORED}, the broker's RSS within {RSS_GROWTH:.0%} of before",
        core_paused,
        broker_rss=True,
    ),
    Scenario(f"edge offline {OFFLINE_S:.0f} s", ALL_STORED, edge_offline),
    Scenario(
        "edge kill -9 with unsent messages",
        f"{ALL_STORED}, none of its children left running",
        edge_kill9,
        encoder=("cam1",),
    ),
    Scenario(
        "SQLite locked by another writer",
        OPERATIONAL,
        sqlite_locked,
        quiet=True,
        operational=True,
    ),
    Scenario(
        "data dir's disk full",
        OPERATIONAL,
        disk_full,
        needs=_need_tmpfs,
        mount=True,
        quiet=True,
        operational=True,
    ),
    Scenario(
        "camera clock 3 h ahead",
        f"{QUIET}, nothing stored in the future, named in its status",
        clock_off(3 * 3600.0),
        quiet=True,
    ),
    Scenario(
        "camera clock 3 h behind",
        f"{QUIET}, named in its status",
        clock_off(-3 * 3600.0),
        quiet=True,
    ),
    Scenario(
        "core back after its messages expired",
        f"{QUIET}, the broker's RSS within {RSS_GROWTH:.0%} of before",
        core_long_absence,
        quiet=True,
        broker_rss=True,
        security={"max_message_age_s": 10.0, "clock_skew_s": 5.0},
    ),
]
