"""The board stage: board files read and validated into a frozen ``Board`` (description.py,
file.py), the MCU facts behind them (family.py, clocktree.py), what the board-support templates
need (support.py) and new board files (writer.py)."""

from tinygen.board.description import (
    CORES,
    DEFAULT_HEAP_SIZE,
    DEFAULT_STACK_SIZE,
    Board,
    Emulator,
    MemoryRegion,
    Uart,
    list_board_names,
    load_board,
    parse_board,
    resolve_board_path,
)

__all__ = ["CORES", "DEFAULT_HEAP_SIZE", "DEFAULT_STACK_SIZE", "Board", "Emulator",
           "MemoryRegion", "Uart", "list_board_names", "load_board", "parse_board",
           "resolve_board_path"]
