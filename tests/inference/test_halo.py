"""Halo tiling: tile geometry by hand, and tiled == one forward pass of the whole small volume (the oracle,
written independently in halo_helpers) for position-independent networks (BatchNorm in eval mode, no norm):
odd shapes, cores that are not multiples of the pooling factor, tiles at the volume border, skipped tiles."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from axonseg.engine import Region
from axonseg.inference.halo import (Tile, choose_tiling, check_halo_network, per_patch_layers, predict_tiled,
                                    predict_whole, tile_for_core, tiles)
from tests.inference.halo_helpers import bn_unet, softmax_predictor, whole_volume_oracle


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_tile_geometry_by_hand():
    # volume 45 long, core [16, 28), halo 8, factor 8: origin 8, reads to 36 (a multiple of 8 long: 28)
    t = tile_for_core(Region((16, 0, 0), (28, 8, 8)), (45, 8, 8), 8, 8)
    assert t.read == Region((8, 0, 0), (40, 8, 8)) and t.input_shape == (32, 8, 8)
    # core start 13 is off the pooling grid: origin rounded down to 0 (more halo, never less)
    t = tile_for_core(Region((13, 0, 0), (20, 8, 8)), (45, 8, 8), 4, 8)
    assert t.read.start[0] == 8 and t.read.stop[0] == 24 and t.input_shape[0] == 16
    # at the far border: read to 45, padded to 48 = ceil(45 / 8) * 8, as the whole-volume pass
    t = tile_for_core(Region((36, 0, 0), (45, 8, 8)), (45, 8, 8), 8, 8)
    assert t.read == Region((24, 0, 0), (45, 8, 8)) and t.input_shape == (24, 8, 8)
    # a full halo inside the volume: no padding
    t = tile_for_core(Region((24, 0, 0), (32, 8, 8)), (42, 8, 8), 8, 8)
    assert t.read.start[0] == 16 and t.read.stop[0] == 40 and t.input_shape[0] == 24
    # a halo rounded up past the border (origin 12 -> 8; 44 -> 48 > 42) reads to the border and pads as the whole pass does
    t = tile_for_core(Region((24, 0, 0), (32, 8, 8)), (42, 8, 8), 12, 8)
    assert t.read.start[0] == 8 and t.read.stop[0] == 42 and t.input_shape[0] == 40  # 8 + 40 = 48
    # at the near border the halo is clipped at 0
    t = tile_for_core(Region((0, 0, 0), (8, 8, 8)), (45, 8, 8), 16, 8)
    assert t.read.start == (0, 0, 0) and t.input_shape[0] == 24


@pytest.mark.parametrize("shape,core,halo", [
    ((45, 37, 29), (16, 16, 16), 8),
    ((23, 30, 41), (12, 20, 13), 12),   # cores off the pooling grid, odd shape
    ((9, 50, 17), (8, 8, 8), 16),      # thinner than one tile on z
])
def test_every_tile_reads_on_the_pooling_grid_and_pads_only_at_the_far_border(shape, core, halo):
    f, covered = 8, np.zeros(shape, np.int32)
    for t in tiles(shape, core, halo, f):
        covered[t.core.to_slices()] += 1
        assert all(a % f == 0 for a in t.read.start) and all(n % f == 0 for n in t.input_shape)
        assert Region.from_shape(shape).contains(t.read) and t.read.contains(t.core)
        for ax in range(3):
            if t.read.shape[ax] != t.input_shape[ax]:  # padded: only when the read reaches the far border
                assert t.read.stop[ax] == shape[ax] and t.input_shape[ax] == -(-shape[ax] // f) * f - t.read.start[ax]
            if t.read.start[ax] > 0:
                assert t.core.start[ax] - t.read.start[ax] >= halo
            if t.read.stop[ax] < shape[ax]:
                assert t.read.stop[ax] - t.core.stop[ax] >= halo
    assert (covered == 1).all()  # every output voxel computed once


@pytest.mark.parametrize("norm,shape,core", [
    ("batch", (29, 37, 45), (10, 13, 18)),   # odd shape, cores not multiples of the factor (4)
    ("batch", (21, 26, 30), (16, 8, 20)),
    ("none", (13, 30, 22), (8, 12, 12)),     # norm_op Identity
])
def test_halo_tiled_equals_one_forward_pass_of_the_whole_volume(norm, shape, core):
    net = bn_unet(pools=2, norm=norm)
    v = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    want = whole_volume_oracle(v, net, 4)
    got = predict_tiled(v, softmax_predictor(net), core, 20, 4)  # 20 >= the receptive field's radius
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    # a halo shorter than the receptive field is visibly wrong: the test can fail
    assert np.abs(predict_tiled(v, softmax_predictor(net), core, 4, 4) - want).max() > 1e-2


def test_whole_volume_pass_matches_the_oracle_on_an_odd_shape():
    net = bn_unet(pools=2)
    v = np.random.default_rng(2).normal(size=(11, 14, 9)).astype(np.float32)
    np.testing.assert_array_equal(predict_whole(v, softmax_predictor(net), 4), whole_volume_oracle(v, net, 4))


def test_skipped_tiles_are_zero_and_not_run_the_others_equal_the_oracle():
    net = bn_unet(pools=2)
    v = np.random.default_rng(3).normal(size=(16, 24, 24)).astype(np.float32)
    calls = []

    def predict(x):
        calls.append(x.shape)
        return softmax_predictor(net)(x)

    def skip(t: Tile) -> bool:
        return t.core.start[2] >= 12  # the right half of x

    got = predict_tiled(v, predict, (8, 12, 12), 20, 4, skip=skip)
    want = whole_volume_oracle(v, net, 4)
    assert len(calls) == 2 * 2 * 1
    assert (got[:, :, :, 12:] == 0).all()
    np.testing.assert_allclose(got[:, :, :, :12], want[:, :, :, :12], rtol=0, atol=1e-5)


def test_per_patch_layers_are_found():
    from axonseg.networks import UNetConfig, build_network

    assert per_patch_layers(bn_unet(pools=2)) == []
    assert per_patch_layers(bn_unet(pools=2, norm="none")) == []
    inst = build_network(UNetConfig("generic_unet", 1, 2, 4, [[2, 2, 2]] * 2, [[3, 3, 3]] * 3, (16, 16, 16)))
    assert per_patch_layers(inst)
    with pytest.raises(ValueError, match="m.pth: declares position_independent.*InstanceNorm3d"):
        check_halo_network(inst, "m.pth")
    assert per_patch_layers(bn_unet(pools=2).train())  # batch statistics in training mode


class _Model:
    def __init__(self, extra, architecture="generic_unet", position_independent=None):
        from types import SimpleNamespace

        self.extra, self.source = extra, "m.pth"
        self.config = SimpleNamespace(architecture=architecture)
        if position_independent is not None:
            self.config.position_independent = position_independent


def test_choose_tiling():
    v2 = _Model({"position_independent": True, "halo_vox": 24})
    v1 = _Model({})
    assert choose_tiling("auto", v2).mode == "halo" and choose_tiling("auto", v2).halo_vox == 24
    assert choose_tiling("auto", v2, halo_vox=32).halo_vox == 32
    assert choose_tiling("auto", v1).mode == "lattice"
    assert choose_tiling("lattice", v2).mode == "lattice"
    assert choose_tiling("auto", v2, normalization="per_patch").mode == "lattice"
    assert choose_tiling("auto", v2, scout=True).mode == "lattice"
    assert choose_tiling("auto", _Model({"position_independent": True})).mode == "lattice"  # no halo measured
    assert choose_tiling("auto", _Model({"position_independent": True}), halo_vox=16).halo_vox == 16
    assert choose_tiling("auto", _Model({}, position_independent=True), halo_vox=16).mode == "halo"  # norm: batch
    assert choose_tiling("auto", _Model(v2.extra, position_independent=False)).mode == "lattice"  # InstanceNorm
    assert choose_tiling("auto", v1, halo_vox=16).mode == "lattice"
    assert choose_tiling("auto", _Model(v2.extra, "axial_unet")).mode == "lattice"
    with pytest.raises(ValueError, match="m.pth: --tiling halo is not possible.*position_independent"):
        choose_tiling("halo", v1)
    with pytest.raises(ValueError, match="tiling must be one of"):
        choose_tiling("tiles", v2)
