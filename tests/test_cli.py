"""tinygen/cli.py: one place maps errors to exit codes; with --json the error is JSON too."""

from __future__ import annotations

import json
import signal

import pytest

from tinygen.cli import main
from tinygen.errors import ExitCode


def test_a_usage_error_with_json_is_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["boards", "--json", "--no-such-flag"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert err.startswith("error: ") and "\nhint: " in err
    assert json.loads(out) == {"error": err.split("\n")[0][len("error: "):],
                               "hint": err.split("\n")[1][len("hint: "):],
                               "exit_code": int(ExitCode.USAGE)}


def test_a_bad_input_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "--json", "/no/such/model.tflite"])
    out, _ = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT
    error = json.loads(out)
    assert error["exit_code"] == ExitCode.BAD_INPUT and "model.tflite" in error["error"]
    assert error["hint"]


def test_without_json_stdout_stays_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "/no/such/model.tflite"]) == ExitCode.BAD_INPUT
    assert capsys.readouterr().out == ""


def test_the_signal_handlers_are_put_back(capsys: pytest.CaptureFixture[str]) -> None:
    before = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
    main(["boards"])
    capsys.readouterr()
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == before


def test_an_abbreviated_json_flag_still_gives_a_json_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "--js", "/no/such/model.tflite"])
    out, _ = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT and json.loads(out)["exit_code"] == ExitCode.BAD_INPUT


def test_a_read_error_gets_a_hint_that_fits_a_read() -> None:
    import errno

    from tinygen.outputs import os_error
    error = os_error(PermissionError(errno.EACCES, "Permission denied", "/x"), writing=False)
    assert "write" not in (error.hint or "") and "permissions" in (error.hint or "")
