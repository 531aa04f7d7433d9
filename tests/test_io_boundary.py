"""Files are opened only in ``axonseg/io``: every other module reads and writes through it.

The check walks the syntax tree of every module of the package (strings and comments do not
count) and lists each call that opens, reads or writes a file by itself.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "axonseg"

#: method names that read or write a file whatever they are called on
FILE_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "savefig"}
#: module-level functions (module name, function) that open files
FILE_FUNCTIONS = {("np", "save"), ("np", "load"), ("numpy", "save"), ("numpy", "load"), ("np", "savez"),
                  ("torch", "save"), ("torch", "load"), ("json", "load"), ("json", "dump"),
                  ("pickle", "load"), ("pickle", "dump"), ("os", "open"), ("h5py", "File"),
                  ("tifffile", "imread"), ("tifffile", "imwrite"), ("tifffile", "TiffFile"),
                  ("sitk", "ReadImage"), ("sitk", "WriteImage"), ("nib", "load"), ("nib", "save")}


def file_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every file-opening call in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            found.append((node.lineno, "open()"))
        elif isinstance(f, ast.Attribute):
            if f.attr in FILE_METHODS:
                found.append((node.lineno, f".{f.attr}()"))
            elif isinstance(f.value, ast.Name) and (f.value.id, f.attr) in FILE_FUNCTIONS:
                found.append((node.lineno, f"{f.value.id}.{f.attr}()"))
    return found


def test_the_checker_sees_file_calls_and_ignores_strings():
    src = ("import json, numpy as np\nopen('a')\np.read_text()\njson.dump(x, f)\nnp.save(f, a)\n"
           "s = 'open(x) and p.write_text(y)'\nzarr.open('z')\n")
    assert [c for _, c in file_calls(src)] == ["open()", ".read_text()", "json.dump()", "np.save()"]


def test_files_are_opened_only_in_axonseg_io():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "io":
            continue
        offenders += [f"axonseg/{rel}:{line}: {call}" for line, call in file_calls(path.read_text())]
    assert offenders == [], "open files through axonseg.io:\n" + "\n".join(offenders)
