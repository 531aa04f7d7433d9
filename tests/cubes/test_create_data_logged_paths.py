"""Every path create-data logs or prints exists after the command ends (the preview used to be
logged at its place inside the temporary task folder, which is renamed at the end)."""
from __future__ import annotations

import logging
import re

from axonseg.cli.main import main as axonseg_main
from tests.test_create_data_cli import _args, _line_labels, make_tree


def test_logged_and_printed_paths_exist_after_the_command(tmp_path, caplog, capsys):
    root = make_tree(tmp_path / "in", _line_labels(3, 20))
    raw = tmp_path / "raw"
    caplog.set_level(logging.INFO)
    assert axonseg_main(_args(root, raw, "--preview")) == 0
    text = "\n".join(r.getMessage() for r in caplog.records) + "\n" + capsys.readouterr().out
    paths = set(re.findall(re.escape(str(tmp_path)) + r"[^\s:,;()'\"]*", text))
    assert any(p.endswith("preview.png") for p in paths), text     # the preview is announced ...
    missing = sorted(p for p in paths if not __import__("os").path.exists(p))
    assert not missing, f"logged but missing after the command: {missing}"   # ... where it is
