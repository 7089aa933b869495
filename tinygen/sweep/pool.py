"""Where cells run: a local process pool (--jobs) or a Dask distributed scheduler (--cluster)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.synchronize import Event
from typing import Any

from tinygen.errors import InputError, ToolMissingError
from tinygen.process import signals_handled
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
    # its work folder removed, as for a tinygen command.
    with signals_handled():
        return run_cell(cell, out_root)


def run_local(cells: Sequence[Cell], out_root: str, jobs: int, on_result: OnResult) -> None:
    """Run ``cells`` here, ``jobs`` at a time; ``on_result`` gets each row as it finishes."""
    if jobs <= 1:
        for cell in cells:
            on_result(cell, run_cell(cell, out_root))
        return
    # forkserver: the workers start from a clean process, not a fork of one with threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tinygen.sweep.execute"])
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
        stop.set()
        for future in pending:
            future.cancel()
        for process in list(getattr(executor, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker's build cleans up and ends
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise ToolMissingError("--cluster needs Dask distributed, which is not installed",
                               hint="pip install 'tinygen[cluster]'") from None
    return distributed


def resources_for(cell: Cell) -> dict[str, float] | None:
    """A physical board's cell runs only on the worker that has the board, one at a time."""
    return {f"board-{cell.board}": 1} if cell.farm_board else None


def run_cluster(cells: Sequence[Cell], out_root: str, address: str, on_result: OnResult,
                model_bytes: dict[str, bytes], timeout_s: float = 30.0) -> None:
    """Run ``cells`` on the Dask scheduler at ``address``; a worker lost mid-cell has its
    cells run again elsewhere by the scheduler (each cell starts from a fresh folder)."""
    distributed = _dask()
    try:
        client = distributed.Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}",
                         hint="start one (dask scheduler) and workers (dask worker ADDRESS), "
                              "or drop --cluster to run here") from None
    try:
        models = {sha: client.scatter(data, hash=True, broadcast=False)
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
