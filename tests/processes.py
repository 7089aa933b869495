"""The processes a test started: QEMU among a tinygen's children (psutil, a test dependency)."""

from __future__ import annotations

import psutil


def qemu_children(pid: int) -> list[int]:
    """The QEMU processes process ``pid`` started directly (none if it has ended)."""
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if child.name().startswith("qemu-system"):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found
