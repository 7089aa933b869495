"""Where cells run: a local process pool (--jobs) or a Dask distributed scheduler (--cluster)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.synchronize import Event
from typing import Any

from tinygen.errors import InputError, ToolMissingError
from tinygen.process import STOP_GRACE_SECONDS, Terminated, signals_handled
from tinygen.sweep.cells import Cell
from tinygen.sweep.execute import failed_row, run_cell

OnResult = Callable[[Cell, dict[str, Any]], None]
_stop: Event | None = None  # set in a pool worker: the sweep is stopping, take no new cell


def _init_worker(stop: Event) -> None:
    global _stop
    _stop = stop


def _pool_task(cell: Cell, out_root: str) -> dict[str, Any] | None:
    if _stop is not None and _stop.is_set():
        return None
    # SIGTERM from the parent (it is stopping) unwinds the build: its children are stopped and
    # its work folder removed, as for a tinygen command; then the worker ends.
    with signals_handled():
        try:
            return run_cell(cell, out_root)
        except Terminated as exc:
            os._exit(exc.exit_code)
        except KeyboardInterrupt:
            os._exit(130)


def run_local(cells: Sequence[Cell], out_root: str, jobs: int, on_result: OnResult) -> None:
    """Run ``cells`` here, ``jobs`` at a time; ``on_result`` gets each row as it finishes."""
    if jobs <= 1:
        for cell in cells:
            on_result(cell, run_cell(cell, out_root))
        return
    # spawn: each worker starts as a fresh interpreter, not a fork of one with threads (and
    # forkserver's workers cannot be reaped reliably once terminated).
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                   initializer=_init_worker, initargs=(stop,))
    pending: dict[Future[dict[str, Any] | None], Cell] = {
        executor.submit(_pool_task, cell, out_root): cell for cell in cells}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                cell = pending.pop(future)
                row = future.result()
                if row is not None:
                    on_result(cell, row)
    except BaseException:
        stop.set()  # a worker that takes another cell now returns at once
        # No future is cancelled: Python 3.11's pool then fails setting a broken pool's
        # error on it (InvalidStateError); the stopped workers end every future instead.
        _stop_workers(list(getattr(executor, "_processes", {}).values()))
        executor.shutdown(wait=True)
        raise
    executor.shutdown(wait=True)


def _stop_workers(processes: list[Any]) -> None:
    """SIGTERM every worker (its cell cleans up and it ends), SIGKILL what is left after the
    grace time."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS * 3  # a build stops SCons, then QEMU
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise ToolMissingError("--cluster needs Dask distributed, which is not installed",
                               hint="pip install 'tinygen[cluster]'") from None
    return distributed


def _same(data: bytes) -> bytes:
    return data


def resources_for(cell: Cell) -> dict[str, float] | None:
    """A physical board's cell runs only on the worker that has the board, one at a time."""
    return {f"board-{cell.board}": 1} if cell.farm_board else None


def run_cluster(cells: Sequence[Cell], out_root: str, address: str, on_result: OnResult,
                model_bytes: dict[str, bytes], timeout_s: float = 30.0) -> None:
    """Run ``cells`` on the Dask scheduler at ``address``; a worker lost mid-cell has its
    cells run again elsewhere by the scheduler (each cell starts from a fresh folder)."""
    distributed = _dask()
    try:
        client = distributed.Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}",
                         hint="start one (dask scheduler) and workers (dask worker ADDRESS), "
                              "or drop --cluster to run here") from None
    try:
        # Each model's bytes as a task of their own, not scattered data: if the worker that
        # holds them dies, the scheduler runs the task again instead of failing the cells.
        models = {sha: client.submit(_same, data, key=f"tinygen-model-{sha[:24]}", pure=False)
                  for sha, data in model_bytes.items()}
        futures = {}
        for cell in cells:
            data = models.get(cell.model_sha256 or "")
            future = client.submit(run_cell, cell, out_root, data, key=f"tinygen-{cell.id}-"
                                   f"{cell.key[:16]}", pure=False,
                                   resources=resources_for(cell))
            futures[future] = cell
        try:
            for future in distributed.as_completed(list(futures)):
                cell = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # KilledWorker: the cell took down worker after worker
                    row = failed_row(cell, exc)
                on_result(cell, row)
        except BaseException:
            client.cancel(list(futures), force=True)
            raise
    finally:
        client.close()
