"""Loading weights (axonseg .pth, legacy D-LMBmap state dict, nnU-Net v1 result folder) and export."""
from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from axonseg.cli.save_models import main as save_models_main
from axonseg.inference import WeightsError, build_loaded_network, load_model
from axonseg.nnunet_v1.plans import ModelFolderError
from tests.inference.helpers import net_predictor, tiny_config, tiny_network

PATCH = (32, 32, 32)


def _plans(cfg, scheme="nonCT"):
    return OrderedDict({
        "plans_per_stage": {0: {"patch_size": np.array(cfg.patch_size_zyx), "batch_size": 2,
                                "pool_op_kernel_sizes": [list(k) for k in cfg.pool_op_kernel_sizes],
                                "conv_kernel_sizes": [list(k) for k in cfg.conv_kernel_sizes],
                                "current_spacing": np.array([1.0, 1.0, 1.0])}},
        "base_num_features": cfg.base_num_features, "num_classes": cfg.num_classes - 1, "num_modalities": 1,
        "normalization_schemes": OrderedDict({0: scheme}), "use_mask_for_norm": OrderedDict({0: False}),
        "transpose_forward": [0, 1, 2], "conv_per_stage": 2,
        "dataset_properties": {"intensityproperties": OrderedDict({0: OrderedDict(
            {"mean": np.float64(2700.5), "sd": np.float64(900.25), "percentile_00_5": np.float64(800.0),
             "percentile_99_5": np.float64(30000.0), "median": np.float64(2600.0)})})},
    })


def make_result_folder(root: Path, architecture="axial_unet", scheme="nonCT", seed=0) -> tuple[Path, torch.nn.Module]:
    """A synthetic nnU-Net v1 result folder as nnU-Net writes it (numpy scalars in the checkpoint)."""
    cfg = tiny_config(architecture)
    net = tiny_network(cfg, seed)
    folder = root / "MyTrainerAxial__nnUNetPlansv2.1"
    (folder / "fold_0").mkdir(parents=True)
    plans = _plans(cfg, scheme)
    with open(folder / "plans.pkl", "wb") as f:
        pickle.dump(plans, f)
    for name, s in (("model_final_checkpoint.model", 0), ("model_best.model", 1)):
        sd = tiny_network(cfg, seed + s).state_dict()
        torch.save({"epoch": 3, "state_dict": sd,
                    "plot_stuff": ([np.float32(0.5)], [np.float32(0.4)], [], [np.float64(0.1)]),
                    "best_stuff": (2, np.float64(0.3), np.float64(0.2))}, folder / "fold_0" / name)
        with open(folder / "fold_0" / (name + ".pkl"), "wb") as f:
            init = (str(folder / "plans.pkl"), 0, str(folder), "/data", True, 0, True, True, False)
            pickle.dump(OrderedDict(init=init, name="MyTrainerAxial", plans=plans), f)
    return folder, net


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    x = np.random.default_rng(0).normal(size=(1, 1) + PATCH).astype(np.float32)
    return np.array_equal(net_predictor(a)(x), net_predictor(b)(x))


def test_legacy_dlmbmap_state_dict_infers_architecture(tmp_path):
    cfg = tiny_config("axial_unet")
    net = tiny_network(cfg, 5)
    torch.save(net.state_dict(), tmp_path / "legacy.pth")
    model = load_model(tmp_path / "legacy.pth")
    assert model.kind == "legacy-state-dict"
    assert model.config.architecture == "axial_unet" and model.config.patch_size_zyx == PATCH
    assert (model.config.base_num_features, len(model.config.pool_op_kernel_sizes)) == (4, 3)
    assert _same_outputs(build_loaded_network(model), net)


def test_plain_generic_unet_state_dict_needs_patch_size(tmp_path):
    torch.save(tiny_network(tiny_config("generic_unet")).state_dict(), tmp_path / "plain.pth")
    with pytest.raises(WeightsError, match="patch size"):
        load_model(tmp_path / "plain.pth")
    assert load_model(tmp_path / "plain.pth", patch_size_zyx=PATCH).config.architecture == "generic_unet"


def test_mismatched_weights_list_the_differences(tmp_path):
    folder, _ = make_result_folder(tmp_path)
    model = load_model(folder)
    sd = dict(model.state_dict)
    sd.pop("seg_outputs.2.weight")
    sd["extra.weight"] = torch.zeros(1)
    sd["tu.0.weight"] = torch.zeros(3, 3, 2, 2, 2)
    bad = type(model)(model.config, sd, model.normalization, None, None, "bad.pth", "test")
    with pytest.raises(WeightsError) as err:
        build_loaded_network(bad)
    msg = str(err.value)
    assert "missing seg_outputs.2.weight" in msg and "unexpected extra.weight" in msg and "shape of tu.0.weight" in msg


def test_nnunet_folder_loads_with_numpy_scalars_and_picks_checkpoint(tmp_path):
    folder, net = make_result_folder(tmp_path)
    final = load_model(folder)
    assert final.trainer == "MyTrainerAxial" and final.normalization.scheme == "nonCT"
    assert _same_outputs(build_loaded_network(final), net)
    best = load_model(folder, checkpoint="best")
    assert not torch.equal(best.state_dict["tu.0.weight"], final.state_dict["tu.0.weight"])
    with pytest.raises(ModelFolderError, match="fold_3"):
        load_model(folder, fold=3)


def test_save_models_writes_a_self_describing_weights_only_pth(tmp_path):
    folder, net = make_result_folder(tmp_path, scheme="CT")
    out = tmp_path / "model.pth"
    assert save_models_main([str(folder), str(out)]) == 0
    obj = torch.load(out, weights_only=True)
    assert obj["format"] == "axonseg-model" and obj["trainer"] == "MyTrainerAxial"
    assert obj["patch_size_zyx"] == list(PATCH) and obj["num_classes"] == 2 and obj["spacing_zyx"] == [1.0, 1.0, 1.0]
    assert obj["normalization"] == {"scheme": "CT", "mean": 2700.5, "std": 900.25, "clip_low": 800.0,
                                    "clip_high": 30000.0, "mask_zero": False}
    assert obj["intensity_properties"]["median"] == 2600.0 and obj["axonseg_version"]
    assert _same_outputs(build_loaded_network(load_model(out)), net)
    assert save_models_main([str(folder), str(out)]) == 1  # no silent overwrite
    # a fold_N/model_*.model file is resolved through its result folder
    out2 = tmp_path / "best.pth"
    assert save_models_main([str(folder / "fold_0" / "model_best.model"), str(out2)]) == 0
    assert torch.load(out2, weights_only=True)["checkpoint"] == "best"


def test_predict_from_result_folder_equals_predict_from_export(tmp_path):
    import zarr

    from axonseg.cli.main import main as axonseg_main

    folder, _ = make_result_folder(tmp_path)
    assert save_models_main([str(folder), str(tmp_path / "m.pth")]) == 0
    src = tmp_path / "in.zarr"
    z = zarr.create_array(str(src), shape=(32, 40, 32), chunks=(16, 16, 16), dtype=np.uint16)
    z[:] = np.random.default_rng(0).integers(0, 4000, size=z.shape, dtype=np.uint16)
    flags = ["--chunk", "16", "8", "16", "--block", "32", "16", "32", "--threads", "1", "--no-preview", "--quiet"]
    assert axonseg_main(["predict", str(src), str(folder), str(tmp_path / "a"), *flags]) == 0
    assert axonseg_main(["predict", str(src), str(tmp_path / "m.pth"), str(tmp_path / "b"), *flags]) == 0
    a = zarr.open_array(str(tmp_path / "a" / "probability.ome.zarr" / "0"))[:]
    b = zarr.open_array(str(tmp_path / "b" / "probability.ome.zarr" / "0"))[:]
    assert np.array_equal(a, b) and a.std() > 0
