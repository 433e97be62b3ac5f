"""Operator enrolments encoded in a worker process: ingest never waits on dlib.

Finding and encoding a face in a photo (dlib's HOG detector and its 128-d network)
takes up to seconds per photo. On core's one worker thread an ``enrol_person``
stalled every camera's positions for that long. Here the photos go to a process
pool of one worker (spawned, not forked: core's threads are running; started on
the first enrolment, so a core nobody enrols with never pays for dlib's import),
and the worker thread polls the futures between batches: the command is answered,
and the encodings stored, on that thread once they are ready
(core.commands.CommandHandler.finished).

The pool is shut down (its process joined) by :meth:`Enrolments.close`, which the
service calls on its one stop path after the worker thread has answered what was
in flight.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.enrol import ImageResult, encode_b64_images
from core.store.errors import StoreError
from core.store.people import add_encodings, get_or_create_person
from srs.orphans import exit_when_gone
from srs.wire import commands as cmd

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An operator's enrol_person, accepted (verified, role checked), being encoded."""

    user: str
    request: cmd.Request
    future: Future[list[ImageResult]]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A finished enrolment: one result per image, in order, or why encoding failed."""

    user: str
    request: cmd.Request
    results: list[ImageResult] | None
    error: BaseException | None = None


def _child(core: int) -> None:
    # The service owns the worker's life (it joins it on stop): a Ctrl-C or a SIGTERM
    # sent to the whole process group must not kill it halfway through a photo.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # ...but a core killed outright joins nothing: the worker (and with it the
    # resource tracker, whose pipe it holds) would run on for ever.
    exit_when_gone(core)


class Enrolments:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Enrolment] = []

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def submit(self, user: str, request: cmd.Request, images_b64: list[str]) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child,
                initargs=(os.getpid(),),
            )
        future = self._pool.submit(encode_b64_images, images_b64)
        self._pending.append(Enrolment(user, request, future))

    def finished(self, wait_s: float = 0.0) -> list[Encoded]:
        """The enrolments whose photos are encoded, in the order they came; waits up to
        ``wait_s`` for one when none is (tests, and the service draining on stop)."""
        if wait_s > 0 and self._pending and not any(e.future.done() for e in self._pending):
            wait([e.future for e in self._pending], timeout=wait_s, return_when=FIRST_COMPLETED)
        done: list[Enrolment] = []
        waiting: list[Enrolment] = []
        for e in self._pending:  # one look at each: a future may finish meanwhile
            (done if e.future.done() else waiting).append(e)
        self._pending = waiting
        out = []
        for e in done:
            error = e.future.exception()
            if error is not None:
                log.error("encoding the photos of an enrolment failed: %r", error)
                if isinstance(error, BrokenProcessPool) and self._pool is not None:
                    self._pool.shutdown(wait=False)  # its worker died: a new one next time
                    self._pool = None
            out.append(Encoded(e.user, e.request, None if error else e.future.result(), error))
        return out

    def close(self) -> None:
        """Cancel what has not started, wait for what has, join the worker process."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for e in self._pending:
            e.future.cancel()
        self._pending.clear()


def store_enrolment(s: Session, done: Encoded) -> dict[str, Any]:
    """Store an encoded enrolment's faces (on core's worker thread, in ``s``)."""
    if done.results is None:
        raise RuntimeError(f"encoding the photos failed: {done.error!r}")
    c = done.request.command
    assert isinstance(c, cmd.EnrolPerson)
    encs = [r.encoding for r in done.results if r.encoding is not None]
    problems = [
        {"image": i, "problem": r.problem} for i, r in enumerate(done.results) if r.encoding is None
    ]
    if not encs:
        raise StoreError(
            "no usable face in the images: "
            + "; ".join(f"image {p['image']}: {p['problem']}" for p in problems)
        )
    person, _ = get_or_create_person(s, c.name)
    add_encodings(s, person, encs, [f"enrolled by {done.user}"] * len(encs), actor=done.user)
    return {
        "person_key": f"p{person.id}",
        "name": person.name,
        "encoded": len(encs),
        "problems": problems,
    }
