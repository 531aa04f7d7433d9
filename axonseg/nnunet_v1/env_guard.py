"""One line instead of nnU-Net v1's traceback when its folders are not set.

Imported at interpreter start by ``axonseg_nnunet_guard.pth`` (written next to the installed
packages by ``axonseg register``, removed by ``axonseg unregister``). It does nothing unless the
program is one of nnU-Net v1's commands; then, if an environment variable that command needs is
unset, it prints which and how to set it, and exits with status 1 before nnU-Net fails with
``TypeError: expected str ... not NoneType`` deep inside. Standard library only, so that it costs
nothing at start-up.
"""
from __future__ import annotations

import os
import sys

#: nnU-Net v1 command -> the environment variables it needs.
NEEDS = {
    "nnUNet_plan_and_preprocess": ("nnUNet_raw_data_base", "nnUNet_preprocessed"),
    "nnUNet_train": ("nnUNet_preprocessed", "RESULTS_FOLDER"),
    "nnUNet_predict": ("RESULTS_FOLDER",),
    "nnUNet_find_best_configuration": ("RESULTS_FOLDER",),
    "nnUNet_determine_postprocessing": ("RESULTS_FOLDER",),
}


def problem(argv: list[str], environ: dict[str, str]) -> str | None:
    """The one-line message for ``argv`` under ``environ``, or ``None`` when all is set."""
    if not argv or any(a in ("-h", "--help") for a in argv[1:]):
        return None
    command = os.path.basename(argv[0])
    missing = [v for v in NEEDS.get(command, ()) if not environ.get(v)]
    if not missing:
        return None
    exports = "; ".join(f"export {v}=/path/to/{v}" for v in missing)
    return (f"{command}: nnU-Net's environment variable(s) {', '.join(missing)} not set "
            f"(the folders for its data and models); set them first, e.g. {exports}")


def check() -> None:
    message = problem(list(getattr(sys, "argv", []) or []), dict(os.environ))
    if message is not None:
        print(message, file=sys.stderr, flush=True)
        os._exit(1)  # at interpreter start-up: SystemExit would be reported as a .pth error


check()
