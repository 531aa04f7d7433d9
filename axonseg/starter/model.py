"""Where the shipped starter model is (inside the installed package)."""
from __future__ import annotations

from pathlib import Path

STARTER_MODEL_V1 = "axonseg-starter-v1.pth"
STARTER_MODEL_V2 = "axonseg-starter-v2.pth"
STARTER_MODEL = STARTER_MODEL_V1
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def starter_model_path() -> Path:
    """Path of the shipped starter model; an error naming the file if it is missing."""
    path = MODELS_DIR / STARTER_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the shipped starter model is missing (reinstall axonseg, or "
                                "rebuild it with `make starter-model`)")
    return path
