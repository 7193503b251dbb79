"""A gate the detectors pass at each stage: the test decides when a detector dies, with no sleeps.

`open_gate()` starts a `Gate` actor; `checkpoint_at(gate)` is the `Checkpoint` the detectors
call. Once armed for a stage, the first detector to reach that stage waits there (until the gate
is released, or the detector is killed); everyone else passes.
"""

from __future__ import annotations

import asyncio

import ray

from recoverops.actors import Checkpoint, Handle, spawn


class Gate:
    def __init__(self) -> None:
        self.stage: str | None = None
        self.arrivals: list[tuple[str, int, str]] = []
        self.held: str | None = None
        self._open = asyncio.Event()

    async def arm(self, stage: str) -> None:
        self.stage, self.held, self.arrivals = stage, None, []
        self._open = asyncio.Event()

    async def arrive(self, stage: str, event_id: int, consumer: str) -> None:
        self.arrivals.append((stage, event_id, consumer))
        if stage == self.stage and self.held is None:
            self.held = consumer
            await self._open.wait()

    async def seen(self) -> list[tuple[str, int, str]]:
        return list(self.arrivals)

    async def holding(self) -> str | None:
        return self.held

    async def release(self) -> None:
        self.stage = None
        self._open.set()


def open_gate() -> Handle:
    return spawn(Gate, options={"num_cpus": 0})


def checkpoint_at(gate: Handle) -> Checkpoint:
    def checkpoint(stage: str, event_id: int, consumer: str) -> None:
        ray.get(gate.arrive.remote(stage, event_id, consumer))

    return checkpoint
