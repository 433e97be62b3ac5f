"""broker.auth_gate: known credentials skip argon2; a flood queues behind everyone else."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from broker.auth_gate import AuthGate
from broker.users import UserStore
from tests.brokers import fast_user_store


class CountingStore(UserStore):
    """A real store whose checks are counted and can be held (a slow argon2)."""

    def __init__(self, path: Path) -> None:
        base = fast_user_store(path)
        super().__init__(
            path,
            hasher=base._hasher,
            pbkdf2_iterations=base._iterations,
            bcrypt_rounds=base._bcrypt_rounds,
        )
        self.checks: list[str] = []
        self.hold = threading.Event()
        self.hold.set()

    def verify(self, name: str, password: str) -> bool:
        self.hold.wait(10)
        self.checks.append(name)
        return super().verify(name, password)


def test_known_credentials_skip_argon2_until_the_password_changes(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "users.json")
    store.add("cam1", "camera", "right-one-pw")
    gate = AuthGate(store)

    async def run() -> list[bool]:
        return [
            await gate.check("cam1", "right-one-pw", "10.0.0.1"),
            await gate.check("cam1", "right-one-pw", "10.0.0.2"),
            await gate.check("cam1", "wrong", "10.0.0.1"),
        ]

    assert asyncio.run(run()) == [True, True, False]
    assert store.checks == ["cam1", "cam1"]  # the second was accepted without argon2
    assert gate.fast == 1

    store.set_password("cam1", "new-one-pw")

    async def after_change() -> list[bool]:
        return [
            await gate.check("cam1", "right-one-pw", "10.0.0.1"),
            await gate.check("cam1", "new-one-pw", "10.0.0.1"),
        ]

    assert asyncio.run(after_change()) == [False, True]


def test_a_burst_from_one_host_queues_behind_a_first_attempt_from_another(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "users.json")
    store.add("cam1", "camera", "right-one-pw")
    store.add("cam2", "camera", "other-one-pw")
    gate = AuthGate(store, concurrent=1)

    async def run() -> list[str]:
        store.hold.clear()  # the first check holds the only slot
        flood = [
            asyncio.create_task(gate.check("cam2", f"guess-{i}", "203.0.113.9")) for i in range(10)
        ]
        await asyncio.sleep(0.05)
        legit = asyncio.create_task(gate.check("cam1", "right-one-pw", "10.0.0.1"))
        await asyncio.sleep(0.05)
        store.hold.set()
        assert await legit
        await asyncio.gather(*flood)
        return store.checks

    checks = asyncio.run(run())
    # One flood attempt already held the slot; the legitimate camera came right after.
    assert checks[:2] == ["cam2", "cam1"]
