import pickle

import numpy as np
import pytest

from axonseg.cubes import CreateDataSettings, group_folds, install_splits, make_splits
from axonseg.cubes.folds import write_splits

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_groups_are_never_split_and_folds_are_balanced():
    sizes = {f"axon-{i}": 8 for i in range(7)} | {f"artifact-{i}": 4 for i in range(3)}
    kinds = {g: g.split("-")[0] for g in sizes}
    folds = group_folds(sizes, 5, seed=1, kinds=kinds)
    assert set(folds) == set(sizes) and set(folds.values()) == set(range(5))
    cases = {f"{g}_case{k}": g for g, n in sizes.items() for k in range(n)}
    splits = make_splits(cases, folds, 5)
    assert len(splits) == 5
    for split in splits:
        train_groups = {cases[c] for c in split["train"]}
        val_groups = {cases[c] for c in split["val"]}
        assert not train_groups & val_groups
        assert len(split["train"]) + len(split["val"]) == len(cases)
    per_fold = [len(s["val"]) for s in splits]
    assert max(per_fold) - min(per_fold) <= 8
    assert group_folds(sizes, 5, seed=1, kinds=kinds) == folds


def test_too_few_groups_for_the_folds_is_an_error():
    with pytest.raises(ValueError, match="at least 5 source cubes"):
        group_folds({"a": 1, "b": 1, "c": 1}, 5, seed=0)


def test_splits_are_nnunet_v1_format_and_install_into_preprocessed(tmp_path):
    splits = make_splits({"A_0": "g0", "A_1": "g1", "A_2": "g1"}, {"g0": 0, "g1": 1}, 2)
    task = tmp_path / "raw" / "Task555_X"
    task.mkdir(parents=True)
    write_splits(task / "splits_final.pkl", splits)
    target = install_splits(task, tmp_path / "pre")
    assert target == tmp_path / "pre" / "Task555_X" / "splits_final.pkl"
    loaded = pickle.loads(target.read_bytes())
    assert isinstance(loaded, list) and isinstance(loaded[0]["train"], np.ndarray)
    assert loaded[0]["val"].tolist() == ["A_0"] and loaded[1]["val"].tolist() == ["A_1", "A_2"]
    write_splits(task / "splits_final.pkl", splits[::-1])
    with pytest.raises(FileExistsError, match="different splits"):
        install_splits(task, tmp_path / "pre")


def test_shipped_config_loads_and_unknown_keys_are_refused(tmp_path):
    settings = CreateDataSettings.from_yaml(REPO / "configs" / "create_data.yaml", seed=7)
    assert settings.patch_size_zyx == (128, 128, 128) and settings.seed == 7
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "configs" / "create_data.yaml").read_text() + "cutmix_prob: 0.3\n")
    with pytest.raises(ValueError, match="cutmix_prob"):
        CreateDataSettings.from_yaml(bad)
    with pytest.raises(ValueError, match="missing"):
        CreateDataSettings.from_dict({"task_id": 5, "task_name": "X"})
    with pytest.raises(ValueError, match="contrast_mode"):
        CreateDataSettings(task_id=5, task_name="X", raw_data_base="r", voxel_spacing_um_zyx=(1, 1, 1),
                           contrast_mode="flatten")
