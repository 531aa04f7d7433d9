"""nnU-Net v1's folders: the one module of axonseg that reads os.environ.

nnU-Net v1 reads ``nnUNet_raw_data_base``, ``nnUNet_preprocessed`` and
``RESULTS_FOLDER`` when it is imported and fails much later, obscurely, when one is
missing. :func:`require_nnunet_paths` says at once which are unset and how to set them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from axonseg.errors import AxonsegError

NNUNET_ENV_VARS = ("nnUNet_raw_data_base", "nnUNet_preprocessed", "RESULTS_FOLDER")


class NnunetEnvError(AxonsegError, RuntimeError):
    """nnU-Net's environment variables are missing."""


@dataclass(frozen=True)
class NnunetPaths:
    raw_data_base: Path
    preprocessed: Path
    results: Path

    @classmethod
    def under(cls, root: str | Path) -> "NnunetPaths":
        """The three folders side by side under one root (what the demo uses)."""
        root = Path(root).resolve()
        return cls(root / "nnUNet_raw", root / "nnUNet_preprocessed", root / "nnUNet_results")

    def environ(self) -> dict[str, str]:
        """These paths as the environment variables nnU-Net v1 reads."""
        return {"nnUNet_raw_data_base": str(self.raw_data_base),
                "nnUNet_preprocessed": str(self.preprocessed),
                "RESULTS_FOLDER": str(self.results)}

    def make_dirs(self) -> None:
        for p in (self.raw_data_base / "nnUNet_raw_data", self.preprocessed, self.results):
            p.mkdir(parents=True, exist_ok=True)


def require_nnunet_paths(environ: dict[str, str] | None = None) -> NnunetPaths:
    """nnU-Net's folders from the environment, or an error naming each unset variable."""
    env = os.environ if environ is None else environ
    missing = [v for v in NNUNET_ENV_VARS if not env.get(v)]
    if missing:
        lines = "\n".join(f"  export {v}=/path/to/{v}" for v in missing)
        raise NnunetEnvError(
            f"nnU-Net's environment variable(s) {', '.join(missing)} are not set. "
            f"nnU-Net v1 keeps its raw data, preprocessed data and trained models in the "
            f"folders they name. Set them, e.g.:\n{lines}"
        )
    return NnunetPaths(Path(env["nnUNet_raw_data_base"]), Path(env["nnUNet_preprocessed"]),
                       Path(env["RESULTS_FOLDER"]))
