"""What nnU-Net v1 sees of axonseg.

nnU-Net v1 finds a trainer by importing every module of its own
``nnunet/training/network_training`` folder, in sorted order, until one has an
attribute of that name. ``axonseg register`` writes a two-line shim module there,
``axonseg_plugin.py``, that star-imports this module. Importing it:

- exposes our trainers by class name (``__all__``);
- allow-lists the numpy types of legacy nnU-Net v1 / D-LMBmap checkpoints for
  ``torch.load``'s safe loading (they are loaded right after the trainer is found);
- gives nnU-Net a module ``__getattr__`` that turns "trainer not found anywhere" into an
  error that lists our trainers, instead of nnU-Net's generic one.
"""
from __future__ import annotations

import threading

from axonseg.nnunet_v1.checkpoints import allow_nnunet_v1_globals
from axonseg_trainers import TRAINERS

allow_nnunet_v1_globals()
globals().update(TRAINERS)
__all__ = sorted(TRAINERS)

_searching = threading.local()


class UnknownTrainerError(RuntimeError):
    """No trainer of this name in nnU-Net or in axonseg."""


def _in_nnunet(name: str) -> bool:
    import nnunet
    from nnunet.training.model_restore import recursive_find_python_class
    from pathlib import Path

    folder = str(Path(nnunet.__path__[0]) / "training" / "network_training")
    _searching.active = True
    try:
        return recursive_find_python_class([folder], name, "nnunet.training.network_training") is not None
    finally:
        _searching.active = False


def __getattr__(name: str):
    """Module attribute fallback (PEP 562), reached only for names we do not define."""
    if name.startswith("_") or getattr(_searching, "active", False) or _in_nnunet(name):
        raise AttributeError(name)
    raise UnknownTrainerError(
        f"unknown trainer {name!r}: it is neither one of nnU-Net v1's trainers nor one of "
        f"axonseg's ({', '.join(sorted(TRAINERS))}). Check the spelling (names are case-sensitive)."
    )
