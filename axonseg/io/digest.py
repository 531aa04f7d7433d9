"""What a set of input files is: their count, bytes and a digest of (path, size, mtime), to tell whether an
unfinished output was made from the same inputs (resume) or from others (start over)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any


def input_files_digest(path: str | Path) -> dict[str, Any]:
    """Count, total bytes and a sha256 over (relative path, size, mtime_ns) of every file of ``path``."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h, total = hashlib.sha256(), 0
    for p in files:
        st = os.stat(p)
        total += st.st_size
        h.update(f"{p.relative_to(path) if p != path else p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return {"files": len(files), "bytes": total, "stat_sha256": h.hexdigest()}
