"""Output capture: bounded files plus in-memory tails, one pump thread, pipe holders."""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from perfinvest.adapters.runner.spec import RunOutcome, RunSpec
from perfinvest.adapters.sampler import ProcId
from perfinvest.core.errors import PerfError, environment_error

STDOUT_NAME = "stdout.log"
STDERR_NAME = "stderr.log"
_READ_CHUNK = 1 << 16
_CAPTURED_TEXT_LIMIT = 64 * 2**20


class Sink:
    """One stream: its first ``limit`` bytes to a file (if any), its last ``tail`` in memory.

    When the file was capped, closing appends the tail after a marker line (or just the
    missing end when the tail overlaps the head), so the file alone is what a reviewer or a
    metric parser needs, bounded by ``limit + tail`` bytes.

    Unbuffered, so a failing write (disk full) shows at once: ``error`` keeps it, the file is
    given up and the stream is still drained (the command must not block on a full pipe);
    the runner stops the command and reports the error (:func:`capture_error`).
    """

    def __init__(self, path: Path | None, limit: int, tail: int) -> None:
        self.path = path
        self.error: OSError | None = None
        self._file: IO[bytes] | None = None
        if path is not None:
            try:
                self._file = path.open("wb", buffering=0)
            except OSError as exc:
                raise capture_error(path, exc) from exc
        self._limit = limit
        self._tail_max = tail
        self._tail = bytearray()
        self.total = 0
        self._written = 0

    def _write(self, data: bytes) -> None:
        if self._file is None:
            return
        try:
            view = memoryview(data)
            while view:  # a raw write may be partial
                written = self._file.write(view)
                if not written:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[written:]
        except OSError as exc:
            self.error = exc
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self._file is not None and self._written < self._limit:
            part = data[: self._limit - self._written]
            self._write(part)
            if self._file is not None:
                self._written += len(part)
        if self._tail_max:
            self._tail += data[-self._tail_max :]
            excess = len(self._tail) - self._tail_max
            if excess > 0:
                del self._tail[:excess]

    @property
    def truncated(self) -> bool:
        kept = self._written + len(self._tail) if self.path is not None else len(self._tail)
        return self.total > kept

    def tail_text(self) -> str:
        data = bytes(self._tail)
        if self.total > len(data):  # cut mid-stream: drop a partial UTF-8 sequence at the start
            skip = 0
            while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
                skip += 1
            data = data[skip:]
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is None:
            return
        missing = self.total - self._written
        if missing > 0 and self._tail:
            if missing > len(self._tail):
                gap = missing - len(self._tail)
                self._write(f"\n[perfinvest: {gap} bytes omitted]\n".encode() + self._tail)
            else:
                self._write(bytes(self._tail[len(self._tail) - missing :]))
        if self._file is None:
            return
        try:
            self._file.close()
        except OSError as exc:
            self.error = self.error or exc
        self._file = None

    def discard(self) -> None:
        """Remove the file (a failed capture is no artifact, and it takes the space)."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


class Pump(threading.Thread):
    """One thread reading both pipes into their sinks until end-of-file (or abandoned)."""

    def __init__(self, streams: list[tuple[IO[bytes], Sink]]) -> None:
        super().__init__(name="perfinvest-output", daemon=True)
        self._streams = streams
        self._abandon = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                for stream, sink in self._streams:
                    selector.register(stream.fileno(), selectors.EVENT_READ, sink)
                while selector.get_map() and not self._abandon.is_set():
                    for key, _ in selector.select(0.2):
                        data = os.read(key.fd, _READ_CHUNK)
                        if data:
                            key.data.feed(data)
                        else:
                            selector.unregister(key.fd)
        except BaseException as exc:  # reported by the runner, never lost in a thread
            self.error = exc

    def finish(self, timeout: float | None) -> bool:
        """Wait for end-of-file on both streams; False when something still holds them."""
        self.join(timeout)
        return not self.is_alive()

    def abandon(self) -> None:
        self._abandon.set()
        self.join()


def capture_error(path: Path, exc: OSError) -> PerfError:
    """Exit 7 naming the file, like a failed state write (ENOSPC: the disk is full)."""
    return environment_error(
        f"cannot write the benchmark's output to {path}: {exc.strerror or exc}; free space "
        "on that disk and run again (the run was stopped and not recorded)"
    )


def open_sinks(spec: RunSpec) -> tuple[Sink, Sink]:
    out_path = err_path = None
    if spec.artifact_dir is not None:
        try:
            spec.artifact_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise environment_error(
                f"cannot create the artifact folder {spec.artifact_dir}: {exc.strerror or exc}"
            ) from exc
        out_path = spec.artifact_dir / STDOUT_NAME
        err_path = spec.artifact_dir / STDERR_NAME
    limit, tail = spec.capture_limit_bytes, spec.tail_bytes
    out = Sink(out_path, limit, tail)
    try:
        return out, Sink(err_path, limit, tail)
    except BaseException:
        out.close()
        raise


def pipe_ids(streams: Sequence[IO[bytes]]) -> set[str]:
    return {f"pipe:[{os.fstat(stream.fileno()).st_ino}]" for stream in streams}


def pipe_holders(pipes: set[str]) -> list[ProcId]:
    """Processes holding one of our pipes open: descendants that escaped the tree (Linux)."""
    holders: list[ProcId] = []
    me = os.getpid()
    proc = Path("/proc")
    try:
        pids = [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()]
    except OSError:
        return holders
    for pid in pids:
        if pid == me:
            continue
        try:
            fds = (proc / str(pid) / "fd").iterdir()
            if any(str(fd.readlink()) in pipes for fd in fds):
                data = (proc / str(pid) / "stat").read_bytes()
                start = int(data[data.rfind(b")") + 2 :].split()[19])
                holders.append(ProcId(pid, float(start)))
        except (OSError, ValueError, IndexError):
            continue
    return holders


def captured_stdout(outcome: RunOutcome, *, limit_bytes: int = _CAPTURED_TEXT_LIMIT) -> str:
    """The captured stdout for metric parsing: the file (head, marker, tail) or the tail.

    The file is already bounded (capture limit + tail); ``limit_bytes`` bounds the read
    anyway, keeping the end (where metric blocks are) when it must cut.
    """
    path = outcome.stdout_path
    if path is None:
        return outcome.stdout_tail
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size <= limit_bytes:
                handle.seek(0)
                data = handle.read()
            else:
                handle.seek(size - limit_bytes)
                data = handle.read()
    except OSError:
        return outcome.stdout_tail
    return data.decode("utf-8", "replace")
