"""Issue 18 item 30: two blocks that both write a partial edge chunk are refused.

The chunk a block writes is counted by hand here: with chunks of 4 along an axis of 10 the chunks
are [0, 4), [4, 8), [8, 10); a block writing [8, 10) writes the third (partial) chunk.
"""
from __future__ import annotations

import pytest

from axonseg.engine import Block, Region
from axonseg.engine.task import check_one_writer_per_chunk


def test_two_blocks_writing_the_partial_edge_chunk_are_refused():
    bounds = Region.from_shape((10, 8, 8))
    whole = Block(0, Region((0, 0, 0), (10, 8, 8)))        # chunks z 0, 1, 2 (2 is [8, 10))
    edge = Block(1, Region((8, 0, 0), (10, 8, 8)))         # chunk z 2 only
    with pytest.raises(ValueError, match=r"blocks 0 and 1 both write chunk \(2, 0, 0\)"):
        check_one_writer_per_chunk((whole, edge), (4, 4, 4), bounds)


def test_partial_edge_chunks_in_every_axis_are_owned_once():
    bounds = Region.from_shape((10, 10, 10))
    corner = Block(0, Region((8, 8, 8), (10, 10, 10)))     # the one partial corner chunk (2, 2, 2)
    rest_x = Block(1, Region((8, 8, 0), (10, 10, 10)))     # x chunks 0, 1, 2: overlaps the corner
    check_one_writer_per_chunk((corner,), (4, 4, 4), bounds)
    with pytest.raises(ValueError, match=r"both write chunk \(2, 2, 2\)"):
        check_one_writer_per_chunk((corner, rest_x), (4, 4, 4), bounds)
