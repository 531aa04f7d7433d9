"""Turn a network into ``predict_patches(batch) -> softmax probabilities`` for the block predictor."""
from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import torch

from axonseg.errors import DeviceError
from axonseg.inference.runtime import NetworkCall, build_network_call, resolve_runtime

logger = logging.getLogger(__name__)

MIRROR_AXES = (2, 3, 4)


def resolve_device(device: str) -> torch.device:
    """``cpu`` / ``cuda`` / ``cuda:N``; ``cuda`` without a GPU is an error, not a silent CPU fallback."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"--device {device!r}: torch sees no CUDA GPU on this machine (use --device cpu, or install a CUDA build of torch: README, GPU)")
    return dev


def resolve_auto_device(device: str, log: bool = True) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA GPU, else ``cpu``; other names are returned as given.

    Called once per run (``predict_whole_brain``), which logs the device that runs the network.
    """
    chosen = device
    if device == "auto":
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    if log:
        if chosen.startswith("cuda") and not torch.cuda.is_available():
            pass  # refused right after, in one line naming --device (resolve_device)
        elif chosen.startswith("cuda"):
            index = torch.device(chosen).index or 0
            logger.info("device %s: %s%s", chosen, torch.cuda.get_device_name(index),
                        " (--device auto found a GPU; --device cpu to override)" if device == "auto" else "")
        else:
            logger.info("device cpu%s: expect hours for a whole brain where a GPU takes minutes (README, GPU)",
                        " (--device auto: torch sees no CUDA GPU)" if device == "auto" else "")
    return chosen


class PatchPredictor:
    """``predictor(batch) -> softmax probabilities``, numpy ``(n, C, z, y, x)`` in and out.

    Attributes
    ----------
    runtime
        The runtime that runs the network (``auto`` resolved; see :mod:`axonseg.inference.runtime`).
    calls
        The built network calls, one per input shape seen (fixed-shape runtimes).
    """

    def __init__(self, net: torch.nn.Module, device: torch.device, runtime: str, flips: list[tuple[int, ...]],
                 batch_size: int | None, cache_dir: str | Path | None, channels_last: bool,
                 autocast: str | None):
        self.net, self.device, self.runtime, self.flips = net, device, runtime, flips
        self.batch_size, self.cache_dir = batch_size, cache_dir
        self.channels_last, self.autocast = channels_last, autocast
        self.calls: dict[tuple[int, ...], NetworkCall] = {}

    def network_call(self, shape: tuple[int, ...]) -> NetworkCall:
        """The network call for inputs ``(n, C, z, y, x)``, built on first use (exported or cached)."""
        n, rest = int(shape[0]), tuple(int(s) for s in shape[1:])
        if self.batch_size is not None and n > self.batch_size:
            raise ValueError(f"a batch of {n} patches exceeds batch_size {self.batch_size}")
        if rest not in self.calls:
            batch = self.batch_size if self.batch_size is not None else n
            self.calls[rest] = build_network_call(self.net, self.runtime, self.device, (batch,) + rest,
                                                  cache_dir=self.cache_dir, channels_last=self.channels_last,
                                                  autocast=self.autocast)
        call = self.calls[rest]
        if n > call.input_shape[0]:  # no batch_size given and a larger batch came later: rebuild
            call = self.calls[rest] = build_network_call(
                self.net, self.runtime, self.device, (n,) + rest, cache_dir=self.cache_dir,
                channels_last=self.channels_last, autocast=self.autocast)
        return call

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        call = self.network_call(tuple(x.shape))
        with torch.inference_mode():
            total = None
            for axes in self.flips:
                xi = torch.flip(x, axes) if axes else x
                p = torch.softmax(call(xi).float(), dim=1)
                p = torch.flip(p, axes) if axes else p
                total = p if total is None else total + p
            if len(self.flips) > 1:
                total = total / len(self.flips)
            return total.contiguous().cpu().numpy()


def make_patch_predictor(net: torch.nn.Module, device: str | torch.device = "cpu", mirror_tta: bool = False,
                         channels_last: bool = True, *, runtime: str = "eager", batch_size: int | None = None,
                         cache_dir: str | Path | None = None, autocast: str | None = None) -> PatchPredictor:
    """Wrap ``net`` (eval mode, no deep supervision) as a numpy batch -> probabilities callable.

    Parameters
    ----------
    net
        A network returning logits ``(N, C, z, y, x)``.
    device
        Where to run it.
    mirror_tta
        Average the softmax over all 8 mirrorings of the patch (nnU-Net's TTA).
    channels_last
        Use the ``channels_last_3d`` memory format (eager and compile runtimes).
    runtime
        ``eager`` (plain torch, the default here), ``compile``, ``onnxruntime``, ``openvino``, or
        ``auto`` (the measured default for the device, logged); see :mod:`axonseg.inference.runtime`.
        A runtime that is unavailable or fails raises ``RuntimeUnavailableError``; never a fallback.
    batch_size
        Largest batch the predictor will be given: fixed-shape runtimes are built for it (shorter
        batches are padded). ``None``: the first batch's size.
    cache_dir
        Where exported networks are cached (default ``~/.cache/axonseg/runtimes``).
    autocast
        ``fp16`` or ``bf16`` mixed precision on a CUDA device; ``None``: float32.
    """
    dev = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    name = resolve_runtime(runtime, dev)
    if autocast is not None and dev.type != "cuda":
        raise ValueError(f"autocast {autocast!r} is for cuda devices; device is {dev}")
    net = net.to(dev).eval()
    flips = [c for r in range(len(MIRROR_AXES) + 1) for c in itertools.combinations(MIRROR_AXES, r)] \
        if mirror_tta else [()]
    return PatchPredictor(net, dev, name, flips, batch_size, cache_dir, channels_last, autocast)
