"""Issue 18 item 39: regions.csv has one schema whether region names come from a BrainGlobe atlas
or from a --region-names CSV; the numbers are worked out by hand."""
from __future__ import annotations

import pytest

from axonseg.analysis.atlas import COLUMNS
from axonseg.analysis.density import region_table

SCHEMA = ["id", "acronym", "name", "voxels", "volume_mm3", "axon_voxels", "axon_fraction", "length_mm",
          "length_density_mm_per_mm3"]


def test_the_documented_schema():
    assert list(COLUMNS) == SCHEMA


def test_names_csv_table_has_the_atlas_schema_and_hand_values():
    # voxels of 2 x 2 x 2 µm = 8e-9 mm³; region 7: 20 voxels, 5 axon voxels, 1000 µm of skeleton
    rows = region_table({7: [20, 5, 1000.0], 0: [10, 0, 0.0]}, (2.0, 2.0, 2.0), {0: "outside", 7: "cortex"})
    assert [list(r) for r in rows] == [SCHEMA, SCHEMA]
    outside, cortex = rows
    assert (outside["id"], outside["name"], outside["acronym"], outside["length_density_mm_per_mm3"]) == \
        (0, "outside", "", 0.0)
    assert cortex["id"] == 7 and cortex["name"] == "cortex" and cortex["voxels"] == 20
    assert cortex["volume_mm3"] == pytest.approx(1.6e-7)
    assert cortex["axon_voxels"] == 5 and cortex["axon_fraction"] == pytest.approx(0.25)
    assert cortex["length_mm"] == pytest.approx(1.0)
    assert cortex["length_density_mm_per_mm3"] == pytest.approx(1.0 / 1.6e-7)
