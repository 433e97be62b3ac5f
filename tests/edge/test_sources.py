"""Sources: GIF files, image folders, live sources that fail and come back."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.clock import boot_clock, clock_base
from edge.sources import (
    CaptureSource,
    FolderSource,
    SourceError,
    SourceStats,
    frames,
    open_source,
)

CORRIDOR = "video/face-demographics-walking.gif"


def test_gif_file_is_finite_and_complete(media: Path) -> None:
    stats = SourceStats()
    got = list(frames(open_source(str(media / CORRIDOR)), threading.Event(), stats))
    assert len(got) == 35 == stats.frames_read
    assert got[0].image.shape == (270, 480, 3)
    assert [f.index for f in got] == list(range(35))
    assert all(a.captured_at <= b.captured_at for a, b in itertools.pairwise(got))


def test_folder_in_name_order_skipping_unreadable(tmp_path: Path) -> None:
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((8, 8, 3), i * 50, np.uint8))
    (tmp_path / "1b.jpg").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    stats = SourceStats()
    got = list(frames(open_source(str(tmp_path)), threading.Event(), stats))
    assert [int(f.image[0, 0, 0]) for f in got] == [0, 50, 100]
    assert stats.frames_dropped == 1


def test_unknown_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="neither"):
        open_source(str(tmp_path / "missing.mp4"))
    assert open_source("0").live and open_source("rtsp://h/s").live


class Flaky:
    """A live source that fails to open ``fail_opens`` times, then drops every third read."""

    live = True
    stills = False
    description = "flaky test camera"

    def __init__(self, fail_opens: int) -> None:
        self.fail_opens = fail_opens
        self.opens = 0
        self.reads = 0

    def open(self) -> None:
        self.opens += 1
        if self.opens <= self.fail_opens:
            raise SourceError("camera busy")

    def read(self) -> np.ndarray | None:
        self.reads += 1
        return None if self.reads % 3 == 0 else np.zeros((4, 4, 3), np.uint8)

    def timestamp(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def test_live_source_is_reopened_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    waits: list[float] = []

    def fake_wait(timeout: float | None = None) -> bool:  # record instead of sleeping
        waits.append(timeout or 0.0)
        return False

    monkeypatch.setattr(stop, "wait", fake_wait)
    source, stats = Flaky(fail_opens=4), SourceStats()
    got = []
    for frame in frames(source, stop, stats, max_backoff_s=4, jitter=0.0):
        got.append(frame)
        if len(got) == 6:
            stop.set()
    assert len(got) == 6
    assert source.opens == 7  # four refused opens, then a reopen after each drop
    assert stats.reopens == 6 and stats.ok
    # backoff doubles while failing (capped), and starts again once frames flow
    assert waits == [1.0, 2.0, 4.0, 4.0, 1.0, 1.0]


def test_a_live_frame_carries_the_clock_base_of_its_stamp() -> None:
    (frame,) = list(
        itertools.islice(frames(Flaky(fail_opens=0), threading.Event(), SourceStats()), 1)
    )
    assert frame.clock_base is not None
    assert frame.clock_base == pytest.approx(clock_base(), abs=0.5)
    assert frame.captured_at - frame.clock_base == pytest.approx(boot_clock(), abs=0.5)


def test_a_file_frame_leaves_its_base_to_the_outbox(media: Path) -> None:
    frame = next(frames(open_source(str(media / CORRIDOR)), threading.Event(), SourceStats()))
    assert frame.clock_base is None


def test_folder_loop_replays(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    source = FolderSource(tmp_path, loop=True)
    stop = threading.Event()
    got = []
    for frame in frames(source, stop, SourceStats()):
        got.append(frame)
        if len(got) == 3:
            stop.set()
    assert len(got) == 3 and source.live


def test_a_file_carries_its_own_frame_times(media: Path) -> None:
    path = media / CORRIDOR
    runs = [
        [f.captured_at for f in frames(open_source(str(path)), threading.Event(), SourceStats())]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]  # the same file, the same times
    assert runs[0][0] == path.stat().st_mtime
    steps = {round(b - a, 3) for a, b in itertools.pairwise(runs[0])}
    assert steps == {0.08, 0.09}  # the GIF's own frame durations (80 and 90 ms)


def test_a_folder_gives_stills_one_second_apart(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((8, 8, 3), i * 50, np.uint8))
    got = list(frames(open_source(str(tmp_path)), threading.Event(), SourceStats()))
    newest = max(p.stat().st_mtime for p in tmp_path.iterdir())
    assert [f.captured_at - newest for f in got] == [0.0, 1.0, 2.0]
    assert all(f.still for f in got)
    assert not any(
        f.still
        for f in frames(open_source(str(tmp_path / "0.png")), threading.Event(), SourceStats())
    )


def test_a_looped_file_goes_on_in_time(media: Path) -> None:
    source = open_source(str(media / CORRIDOR), loop=True)
    assert isinstance(source, CaptureSource)
    source.realtime = False  # no need to wait for the clip's pace here
    stop = threading.Event()
    got = []
    for frame in frames(source, stop, SourceStats()):
        got.append(frame.captured_at)
        if len(got) == 40:  # 35 frames, then the replay
            stop.set()
    assert all(b > a for a, b in itertools.pairwise(got))
    assert abs(got[0] - time.time()) < 3600  # a replay happens now, not at the file's mtime


def test_a_replayed_gif_is_stamped_when_read_never_ahead_of_the_clock(media: Path) -> None:
    """The classroom GIF says 16.7 fps but its frames last 60-70 ms: pacing by the
    nominal rate stamped frames ahead of the clock (negative latency downstream)."""
    source = open_source(str(media / "video" / "classroom.gif"), loop=True)
    stop = threading.Event()
    ahead, behind = [], []
    for frame in frames(source, stop, SourceStats()):
        now = time.time()
        ahead.append(frame.captured_at - now)
        behind.append(now - frame.captured_at)
        if len(ahead) == 25:
            stop.set()
    assert max(ahead) <= 0.01  # never in the future (rounding aside)
    assert max(behind) < 1.0  # and not lagging either: a replay happens now
