"""The one CLI runner and the settings base: exit codes, one-line messages, typed settings."""
from __future__ import annotations

import argparse
import errno
from dataclasses import dataclass

import pytest

from axonseg.cli.runner import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_USAGE, error_message, run_command
from axonseg.errors import SettingsError, UsageError
from axonseg.settings import SettingsBase


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("path")
    return p


def _raising(exc: BaseException):
    def run(args):
        raise exc
    return run


@pytest.mark.parametrize("exc, code, line", [
    (KeyboardInterrupt(), EXIT_INTERRUPTED, "axonseg demo: interrupted; rerun the same command to resume"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/out/probability.ome.zarr/0/c/1"), EXIT_BAD_INPUT,
     "axonseg demo: /data/out/probability.ome.zarr/0/c/1: No space left on device (the disk is full: free space, "
     "then rerun the same command to resume)"),
    (OSError(errno.EROFS, "Read-only file system", "/ro/out"), EXIT_BAD_INPUT,
     "axonseg demo: /ro/out: Read-only file system"),
    (PermissionError(errno.EPERM, "Operation not permitted", "/imm/out"), EXIT_BAD_INPUT,
     "axonseg demo: /imm/out: Operation not permitted (immutable or protected path?)"),
    (UsageError("give INPUT OUTPUT"), EXIT_USAGE, "axonseg demo: give INPUT OUTPUT"),
    (SettingsError("c.yaml: batch_size must be an integer, got 'two'"), EXIT_BAD_INPUT,
     "axonseg demo: c.yaml: batch_size must be an integer, got 'two'"),
    (ValueError("line one\nline two\nline three"), EXIT_BAD_INPUT, "axonseg demo: line one line two; line three"),
])
def test_known_errors_are_one_line_with_their_exit_code(exc, code, line, capsys):
    assert run_command("demo", _parser, _raising(exc), ["x"]) == code
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip() and not ln.startswith("usage:")]
    assert lines == [line]


def test_programming_errors_keep_their_traceback(capsys):
    with pytest.raises(ZeroDivisionError):
        run_command("demo", _parser, _raising(ZeroDivisionError("bug")), ["x"])


def test_axonseg_debug_reraises_known_errors(monkeypatch):
    monkeypatch.setenv("AXONSEG_DEBUG", "1")
    with pytest.raises(ValueError, match="bad"):
        run_command("demo", _parser, _raising(ValueError("bad")), ["x"])


def test_usage_errors_and_help_return_instead_of_exiting(capsys):
    assert run_command("demo", _parser, lambda a: 0, []) == EXIT_USAGE
    assert run_command("demo", _parser, lambda a: 0, ["--help"]) == 0
    assert "usage: axonseg demo" in capsys.readouterr().out


def test_error_message_caps_long_listings():
    text = error_message(ValueError("\n".join(f"point {i}" for i in range(30))))
    assert text.startswith("point 0 point 1; point 2") and text.endswith("(20 more)") and "\n" not in text


def test_axonseg_commands_print_no_nnunet_banner_or_path_warnings(capsys):
    from axonseg.cli.main import main

    assert main(["trainers"]) in (0, 1)
    out = capsys.readouterr()
    for noise in ("Please cite", "nnUNet_raw_data_base is not defined", "RESULTS_FOLDER is not defined"):
        assert noise not in out.out + out.err


@dataclass(frozen=True)
class Inner(SettingsBase):
    k: float = 1.0


@dataclass(frozen=True)
class Outer(SettingsBase):
    name: str
    n: int = 2
    flag: bool = False
    shape: tuple[int, int, int] = (1, 2, 3)
    limit: float | None = None
    inner: Inner = Inner()

    settings_kind = "test settings"

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")


def test_settings_coerce_lists_ints_and_nested_mappings(tmp_path):
    (tmp_path / "s.yaml").write_text("name: a\nn: 3\nshape: [4, 5, 6]\nlimit: 2\ninner: {k: 3}\n")
    s = Outer.from_yaml(tmp_path / "s.yaml")
    assert s == Outer("a", 3, False, (4, 5, 6), 2.0, Inner(3.0)) and isinstance(s.limit, float)
    assert Outer.from_dict(s.to_dict()) == s
    assert s.replace(n=5).n == 5 and s.replace(shape=[1, 1, 1]).shape == (1, 1, 1)


@pytest.mark.parametrize("yaml_text, message", [
    ("name: a\nn: four\n", "s.yaml: n must be an integer, got 'four'"),
    ("name: a\nflag: 1\n", "s.yaml: flag must be true or false, got 1"),
    ("name: a\nn: 2.5\n", "s.yaml: n must be an integer, got 2.5"),
    ("name: a\nshape: [1, 2]\n", "s.yaml: shape must be a list of 3 integers, got [1, 2]"),
    ("name: a\ninner: {kk: 1}\n", "s.yaml: unknown key(s) inner.kk (settings)"),
    ("name: a\ninner: {k: x}\n", "s.yaml: inner.k must be a number, got 'x'"),
    ("name: a\nlimit: abc\n", "s.yaml: limit must be a number (or null), got 'abc'"),
    ("n: 2\n", "s.yaml: test settings key(s) missing: name"),
    ("name: a\nbogus: 1\n", "s.yaml: unknown key(s) bogus (test settings); known keys: name, n, flag"),
    ("name: a\nn: 0\n", "s.yaml: n must be >= 1, got 0"),
    ("name: [a\n", "s.yaml: YAML syntax error at line 2, column 1"),
    ("- a\n- b\n", "s.yaml: expected a mapping of test settings, got list"),
])
def test_settings_errors_name_the_file_and_the_key(tmp_path, yaml_text, message):
    (tmp_path / "s.yaml").write_text(yaml_text)
    with pytest.raises(SettingsError) as info:
        Outer.from_yaml(tmp_path / "s.yaml")
    assert message in str(info.value)


def test_every_settings_class_uses_the_base():
    from axonseg.analysis.density import DensitySettings
    from axonseg.analysis.evaluate import EvaluationSettings
    from axonseg.analysis.lsfm_sim import LsfmSettings
    from axonseg.annotate.rough import RoughLabelSettings
    from axonseg.annotate.tubular import TubularSettings
    from axonseg.cubes.augment import CropAugmentSettings
    from axonseg.cubes.settings import CreateDataSettings
    from axonseg.inference.settings import PredictSettings
    from axonseg.synthetic.tubes import TubeSettings

    for cls in (DensitySettings, EvaluationSettings, LsfmSettings, RoughLabelSettings, TubularSettings,
                CropAugmentSettings, CreateDataSettings, PredictSettings, TubeSettings):
        assert issubclass(cls, SettingsBase), cls


def test_sigterm_is_handled_like_ctrl_c_in_one_line(tmp_path):
    """Issue 18 item 21: a batch system's SIGTERM unwinds like Ctrl-C (``finally`` blocks run: locks are
    released), says so in one line and exits 143; the handler is restored afterwards. In a child process,
    as a real command receives it."""
    import subprocess
    import sys

    script = tmp_path / "term.py"
    script.write_text(
        "import argparse, os, signal, sys, time\n"
        "from axonseg.cli.runner import run_command\n"
        "def parser():\n"
        "    return argparse.ArgumentParser()\n"
        "def run(args):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(30)\n"
        "    finally:\n"
        "        print('finally ran', flush=True)\n"
        "before = signal.getsignal(signal.SIGTERM)\n"
        "code = run_command('demo', parser, run, [])\n"
        "print('handler restored', signal.getsignal(signal.SIGTERM) == before, flush=True)\n"
        "sys.exit(code)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 143, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["finally ran", "handler restored True"]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["axonseg demo: interrupted (SIGTERM); rerun the same command to resume"]


def test_other_packages_info_logs_are_hidden_axonseg_info_shown(caplog):
    """Issue 18 item 21: the ONNX exporter logged ~120 INFO lines per cold export (onnx_ir, onnxscript)."""
    import logging

    def run(args):
        logging.getLogger("onnx_ir.passes.common.unused_removal").info("Removed 61 unused nodes")
        logging.getLogger("distributed.scheduler").info("State start")
        logging.getLogger("onnxscript").warning("a real warning")
        logging.getLogger("axonseg.inference.pipeline").info("3 blocks to run")

    with caplog.at_level(logging.NOTSET, logger="nothing"):
        assert run_command("demo", _parser, run, ["x"]) == 0
    assert [r.getMessage() for r in caplog.records] == ["a real warning", "3 blocks to run"]


def test_yaml_exponent_numbers_are_numbers(tmp_path):
    """Issue 18 item 23: PyYAML (YAML 1.1) read ``1e9`` as the string '1e9' ("must be an integer, got '1e9'")."""
    from axonseg.inference.settings import PredictSettings

    (tmp_path / "p.yaml").write_text("norm_max_sample_voxels: 1e9\nstep_fraction: 5e-1\n")
    s = PredictSettings.from_yaml(tmp_path / "p.yaml")
    assert s.norm_max_sample_voxels == 10 ** 9 and isinstance(s.norm_max_sample_voxels, int)
    assert s.step_fraction == 0.5


def test_predict_usage_names_one_job(capsys):
    """Issue 18 item 23: the usage line read "INPUT [MODEL] OUTPUT [INPUT [MODEL] OUTPUT ...]"."""
    from axonseg.cli.main import main

    assert main(["predict", "a", "b", "c", "d"]) == EXIT_USAGE
    usage = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("usage:")]
    assert usage == ["usage: axonseg predict [options] INPUT [MODEL] OUTPUT   (see --help for the options)"]
