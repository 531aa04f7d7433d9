"""Progress a person can read: a bar over patches (not blocks) with voxels/s and an ETA, and the
throughput figures ``run.json`` records."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from tqdm import tqdm


@dataclass
class PatchProgress:
    """Counts patches as the network runs them (``advance``) and blocks as they finish (``block_done``).

    ``expected`` maps each pending block to the patches it is expected to run (its owned
    patches inside the tissue); ``voxels_per_patch`` converts patches to output voxels for the
    voxels/s figure (volume voxels / lattice patches).
    """

    expected: dict[int, int]
    voxels_per_patch: float
    enabled: bool = True
    description: str = "predict"
    counted: dict[int, int] = field(default_factory=dict)
    patches_run: int = 0
    patches_skipped: int = 0
    voxels_written: int = 0
    blocks_run: int = 0
    blocks_without_patches: int = 0

    def __post_init__(self):
        self.t0 = time.perf_counter()
        self.bar = tqdm(total=sum(self.expected.values()), desc=self.description, unit="patch",
                        disable=not self.enabled, smoothing=0.1, dynamic_ncols=True)

    def _postfix(self) -> None:
        dt = max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"{self.bar.n * self.voxels_per_patch / dt:.3g} vox/s, "
                                 f"blocks {self.blocks_run}/{len(self.expected)}", refresh=False)

    def advance(self, index: int, n: int) -> None:
        """``n`` more patches of block ``index`` ran (called during compute)."""
        self.counted[index] = self.counted.get(index, 0) + n
        self.bar.update(n)
        self._postfix()

    def block_done(self, index: int, patches: int, skipped: int, voxels: int) -> None:
        self.blocks_run += 1
        self.patches_run += patches
        self.patches_skipped += skipped
        self.voxels_written += voxels
        self.blocks_without_patches += int(patches == 0)
        rest = self.expected.get(index, 0) - self.counted.pop(index, 0)
        if rest > 0:  # patches not reported while computing (Dask) or dropped as empty
            self.bar.update(rest)
        self._postfix()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0

    def close(self) -> None:
        self.bar.close()
