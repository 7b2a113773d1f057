"""How a load run is spread over Locust processes: a plain value the CLI builds, the engine runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    """How Locust runs: one process, N local workers, or one side of a multi-machine run."""

    workers: int = 0  # local worker processes under a master (--processes)
    master: bool = False  # --master: wait for expect_workers remote workers
    expect_workers: int = 1
    master_host: str | None = None  # --worker --master-host H
    master_port: int = 5557
