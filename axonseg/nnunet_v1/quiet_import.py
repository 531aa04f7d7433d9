"""Import nnU-Net v1 without its citation banner and path warnings (both printed with ``print`` when
``nnunet`` and ``nnunet.paths`` are first imported). The CLI does it at start-up, Dask workers when
they join (:func:`axonseg.engine.runners.run_dask`); axonseg reads nnU-Net's variables itself
(``axonseg.nnunet_v1.env``) and cites nnU-Net in the README."""
from __future__ import annotations

import contextlib
import io


def quiet_nnunet_import() -> None:
    """Import ``nnunet`` and ``nnunet.paths`` once with their output swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        import nnunet  # noqa: F401
        import nnunet.paths  # noqa: F401
