"""Sparse annotations: voxels labelled 255 (not annotated) contribute nothing to the training loss."""
import numpy as np
import pytest
import torch

from axonseg.nnunet_v1.sparse_loss import IGNORE_LABEL, IgnoreDCandCELoss


def _case(seed=0, shape=(2, 1, 12, 14, 10)):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape[0], 2, *shape[2:], generator=g)
    labels = (torch.rand(shape, generator=g) > 0.8).float()
    ignore = torch.rand(shape, generator=g) > 0.6
    return logits, labels, ignore


def _loss_and_grad(logits, target):
    x = logits.clone().requires_grad_(True)
    loss = IgnoreDCandCELoss()(x, target)
    loss.backward()
    return float(loss), x.grad


def test_flipping_the_labels_under_the_ignore_mark_changes_nothing():
    logits, labels, ignore = _case()
    a = torch.where(ignore, torch.full_like(labels, IGNORE_LABEL), labels)
    # the "true" labels of unannotated voxels, flipped, then marked unannotated again: same target
    flipped = torch.where(ignore, 1 - labels, labels)
    b = torch.where(ignore, torch.full_like(labels, IGNORE_LABEL), flipped)
    assert torch.equal(a, b)
    la, ga = _loss_and_grad(logits, a)
    # what the network predicts at unannotated voxels changes nothing either
    changed = logits.clone()
    changed[ignore.expand_as(changed)] = torch.randn(int(ignore.expand_as(changed).sum())) * 10
    lb, gb = _loss_and_grad(changed, b)
    assert la == pytest.approx(lb, abs=1e-6)
    assert torch.allclose(ga, gb, atol=1e-7)
    assert float(gb[ignore.expand_as(gb)].abs().max()) == 0.0


def test_without_ignored_voxels_it_is_nnunets_dice_and_ce():
    from nnunet.training.loss_functions.dice_loss import DC_and_CE_loss

    logits, labels, _ = _case(1)
    ours = IgnoreDCandCELoss()(logits, labels)
    theirs = DC_and_CE_loss({"batch_dice": True, "smooth": 1e-5, "do_bg": False}, {})(logits, labels)
    assert float(ours) == pytest.approx(float(theirs), rel=1e-5)


def test_the_loss_equals_the_loss_on_the_annotated_voxels_alone():
    """Only annotated voxels: the same loss as a batch made of just those voxels."""
    logits, labels, ignore = _case(2)
    target = torch.where(ignore, torch.full_like(labels, IGNORE_LABEL), labels)
    keep = ~ignore[:, 0]
    flat_logits = logits.movedim(1, -1)[keep].T.reshape(1, 2, -1, 1, 1)
    flat_labels = labels[:, 0][keep].reshape(1, 1, -1, 1, 1)
    assert float(IgnoreDCandCELoss()(logits, target)) == pytest.approx(
        float(IgnoreDCandCELoss()(flat_logits, flat_labels)), rel=1e-5)


def test_unknown_label_values_are_refused():
    logits, labels, _ = _case(3)
    with pytest.raises(ValueError, match=r"label values \[7\]"):
        IgnoreDCandCELoss()(logits, torch.where(labels > 0, torch.full_like(labels, 7), labels))


def test_a_short_fine_tune_from_slice_labels_improves_a_constructed_case():
    """Tubes labelled on 3 of 24 slices only (the rest 255): training with the ignore loss finds the
    tubes in the FULL truth (Dice > 0.7); the same labels with the unlabelled voxels taken as
    background teach the network that most tube voxels are background (Dice < 0.4)."""
    from axonseg.synthetic import TubeSettings, make_tube_volume

    rng = np.random.default_rng(0)
    image, truth = make_tube_volume((24, 32, 32), rng, TubeSettings(n_tubes=5, radius_vox=1.5))
    x = torch.from_numpy(((image - image.mean()) / image.std())[None, None].astype(np.float32))
    sparse = np.full(truth.shape, IGNORE_LABEL, np.float32)
    for z in (4, 12, 20):
        sparse[z] = truth[z]
    as_background = np.where(sparse == IGNORE_LABEL, 0, sparse).astype(np.float32)

    def train(target):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.LeakyReLU(),
                                  torch.nn.Conv3d(8, 2, 3, padding=1))
        opt = torch.optim.Adam(net.parameters(), 2e-2)
        t = torch.from_numpy(target[None, None])
        for _ in range(120):
            opt.zero_grad()
            IgnoreDCandCELoss()(net(x), t).backward()
            opt.step()
        with torch.no_grad():
            pred = net(x).argmax(1)[0].numpy().astype(bool)
        return 2 * np.sum(pred & (truth > 0)) / (pred.sum() + truth.sum())

    dice_sparse, dice_background = train(sparse), train(as_background)
    assert dice_sparse > 0.7, dice_sparse
    assert dice_background < 0.4, dice_background
