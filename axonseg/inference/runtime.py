"""Run a network's forward pass on one of four runtimes, for a fixed input shape.

``eager`` (plain torch, optionally channels_last_3d and, on CUDA, autocast), ``compile``
(``torch.compile``, inductor), ``onnxruntime`` (the network exported with ``torch.onnx.export``)
and ``openvino`` (the network exported with its InstanceNorms as two-level sums, see
:mod:`axonseg.inference.precise_norm`, and converted to OpenVINO IR). All four take a float32 torch
tensor ``(n, C, z, y, x)`` with ``n <= batch`` and return float32 logits; the fixed-shape runtimes
pad a short last batch with zeros (InstanceNorm is per sample, so padding changes nothing).

Exported files are cached in ``cache_dir/<sha256 of the weights>/<input shape>/`` (ONNX, OpenVINO
IR), so a second run with the same weights, patch and batch reuses them. Nothing falls back: a
runtime that is not installed, cannot export this network or fails raises
:class:`RuntimeUnavailableError` naming the runtime. ``auto`` resolves to :data:`CPU_AUTO` on the
CPU (the winner of ``benchmarks/bench_runtime.py``) and to ``eager`` on CUDA, and says so in the log.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from axonseg.errors import AxonsegError
from axonseg.inference.precise_norm import with_two_level_instance_norms
from axonseg.io.files import write_json

logger = logging.getLogger(__name__)

RUNTIMES = ("eager", "compile", "onnxruntime", "openvino")
RUNTIME_CHOICES = ("auto",) + RUNTIMES
CPU_AUTO = "openvino"
# benchmarks/bench_runtime.py, 2 threads: openvino 2.15x eager on the starter net under load, 1.43x idle (batch 2),
# 2.25x on D-LMBmap's 128^3 axial net (torch.compile 2.35x, but 0.74x on the starter and a minute to compile)
CPU_AUTO_REASON = ("fastest on CPU in benchmarks/bench_runtime.py: starter net 1.43x eager at batch 2 (idle), "
                   "D-LMBmap net 2.25x")
AUTOCAST_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
CPU_ONLY = ("onnxruntime", "openvino")
ONNX_OPSET = 18
_PIP = {"onnxruntime": "onnxruntime onnx onnxscript", "openvino": "openvino onnx onnxscript"}


class RuntimeUnavailableError(RuntimeError):
    """The requested runtime cannot run this network here; the message names the runtime."""


def check_runtime_settings(runtime: str, device: str, autocast: str | None) -> None:
    """``ValueError`` naming the setting when ``runtime`` / ``autocast`` do not fit ``device``."""
    if runtime not in RUNTIME_CHOICES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIME_CHOICES)}, got {runtime!r}")
    on_cuda = str(device).startswith("cuda")
    if runtime in CPU_ONLY and on_cuda:
        raise ValueError(f"runtime {runtime} runs on the CPU only here; device {device} needs runtime "
                         f"eager, compile or auto")
    if autocast is not None and (autocast not in AUTOCAST_DTYPES or not on_cuda):
        raise ValueError(f"autocast must be null or one of {', '.join(AUTOCAST_DTYPES)} on a cuda device, "
                         f"got {autocast!r} on {device}")


def resolve_runtime(name: str, device: str | torch.device, log: bool = True) -> str:
    """``auto`` -> the measured default for ``device`` (logged unless ``log`` is False); other names
    are checked and returned."""
    if name not in RUNTIME_CHOICES:
        raise ValueError(f"unknown runtime {name!r}; choose one of {', '.join(RUNTIME_CHOICES)}")
    dev = torch.device(device)
    if name == "auto":
        chosen, why = (CPU_AUTO, CPU_AUTO_REASON) if dev.type == "cpu" else ("eager", f"default on {dev.type}")
        if log:
            logger.info("runtime auto -> %s on %s (%s; --runtime eager to override)", chosen, dev.type, why)
        return chosen
    if name in CPU_ONLY and dev.type != "cpu":
        raise RuntimeUnavailableError(f"runtime {name} runs on the CPU only here (its CPU build is installed); "
                                      f"device {dev} needs --runtime eager or compile")
    return name


def default_cache_dir() -> Path:
    """``~/.cache/axonseg/runtimes``: exported networks, shared by all runs of a user."""
    return Path.home() / ".cache" / "axonseg" / "runtimes"


class RuntimeCacheError(AxonsegError, ValueError):
    """The runtime cache folder cannot be created or written; the message names it and the way out."""


def check_cache_writable(runtime: str, cache_dir: str | Path | None) -> None:
    """Before any output exists: an exporting runtime (onnxruntime, openvino) needs a writable cache folder."""
    if runtime not in ("onnxruntime", "openvino"):
        return
    folder = Path(cache_dir or default_cache_dir())
    hint = (f"runtime {runtime} caches the exported network there: give --runtime-cache DIR (a writable "
            "folder) or --runtime eager (nothing exported)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuntimeCacheError(f"{folder}: cannot create the runtime cache folder ({exc.strerror or exc}); "
                                f"{hint}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RuntimeCacheError(f"{folder}: the runtime cache folder is not writable; {hint}")


def weights_sha256(net: torch.nn.Module) -> str:
    """sha256 of the network class and every state-dict tensor (name, dtype, shape, bytes)."""
    h = hashlib.sha256(f"{type(net).__module__}.{type(net).__qualname__}".encode())
    for name, t in net.state_dict().items():
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        flat = t.detach().to("cpu").clone(memory_format=torch.contiguous_format).reshape(-1)
        h.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    return h.hexdigest()


def cache_folder(cache_dir: str | Path | None, net: torch.nn.Module, input_shape: tuple[int, ...]) -> Path:
    """``cache_dir/<weights sha256>/b<batch>_c<channels>_<z>x<y>x<x>`` (created)."""
    n, c, *spatial = input_shape
    folder = Path(cache_dir or default_cache_dir()) / weights_sha256(net) / f"b{n}_c{c}_{'x'.join(map(str, spatial))}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class NetworkCall:
    """``call(x) -> logits`` for inputs of shape ``(n <= batch, C, z, y, x)``.

    Attributes
    ----------
    runtime
        Which runtime runs the network.
    setup_seconds
        Export/convert/load time spent when this call was built (0 for eager; ``compile``
        compiles on the first call, counted in ``first_call_seconds``).
    first_call_seconds
        Wall time of the first call (includes ``torch.compile``'s compilation).
    exported
        True when this construction exported or converted a file (False: reused the cache).
    """

    def __init__(self, runtime: str, input_shape: tuple[int, ...], fn: Callable[[torch.Tensor], torch.Tensor],
                 pad: bool, setup_seconds: float = 0.0, exported: bool = False, files: tuple[Path, ...] = ()):
        self.runtime, self.input_shape, self._fn, self._pad = runtime, tuple(input_shape), fn, pad
        self.setup_seconds, self.exported, self.files = setup_seconds, exported, files
        self.first_call_seconds: float | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if tuple(x.shape[1:]) != self.input_shape[1:] or n > self.input_shape[0]:
            raise ValueError(f"runtime {self.runtime} was built for inputs {self.input_shape}, got {tuple(x.shape)}")
        if self._pad and n < self.input_shape[0]:
            x = torch.cat([x, x.new_zeros((self.input_shape[0] - n,) + tuple(x.shape[1:]))])
        t0 = time.perf_counter()
        try:
            out = self._fn(x)
        except RuntimeUnavailableError:
            raise
        except Exception as e:
            if self.runtime == "eager":  # today's path: the network's own errors, unchanged
                raise  # runtimes raise their own types; name the runtime, keep the cause
            raise RuntimeUnavailableError(f"runtime {self.runtime} failed on an input of shape "
                                          f"{tuple(x.shape)}: {type(e).__name__}: {e}") from e
        if self.first_call_seconds is None:
            self.first_call_seconds = time.perf_counter() - t0
        return out[:n]


def build_network_call(net: torch.nn.Module, runtime: str, device: str | torch.device,
                       input_shape: tuple[int, ...], cache_dir: str | Path | None = None,
                       channels_last: bool = False, autocast: str | None = None) -> NetworkCall:
    """Build ``runtime`` (not ``auto``: see :func:`resolve_runtime`) for ``net`` at ``input_shape``.

    Parameters
    ----------
    net
        Network in eval mode returning logits ``(N, classes, z, y, x)``; already on ``device``.
    input_shape
        ``(batch, channels, z, y, x)``: the fixed batch and patch the runtime is built for.
    cache_dir
        Where exported files go (default :func:`default_cache_dir`).
    channels_last
        channels_last_3d memory format (eager and compile).
    autocast
        ``fp16`` / ``bf16`` mixed precision on CUDA (eager and compile); ``None``: float32.
    """
    dev = torch.device(device)
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if autocast is not None and (autocast not in AUTOCAST_DTYPES or dev.type != "cuda"):
        raise ValueError(f"autocast must be one of {sorted(AUTOCAST_DTYPES)} on a cuda device, "
                         f"got {autocast!r} on {dev}")
    if autocast is not None and runtime in CPU_ONLY:
        raise ValueError(f"autocast is for the eager and compile runtimes, not {runtime}")
    input_shape = tuple(int(s) for s in input_shape)
    if runtime in ("eager", "compile"):
        return _torch_call(net, runtime, dev, input_shape, channels_last, autocast)
    if dev.type != "cpu":
        raise RuntimeUnavailableError(f"runtime {runtime} runs on the CPU only here, not on {dev}")
    _require(runtime)  # before a possibly long export
    folder = cache_folder(cache_dir, net, input_shape)
    t0 = time.perf_counter()
    onnx_path, exported = export_onnx(net, folder, input_shape, runtime, two_level_norm=runtime == "openvino")
    if runtime == "onnxruntime":
        fn = _onnxruntime_fn(onnx_path)
        files = (onnx_path,)
    else:
        xml, converted = _openvino_ir(onnx_path)
        fn, exported, files = _openvino_fn(xml), exported or converted, (onnx_path, xml)
    call = NetworkCall(runtime, input_shape, fn, pad=True, setup_seconds=time.perf_counter() - t0,
                       exported=exported, files=files)
    logger.info("runtime %s for %s: %s in %.1f s (%s)", runtime, input_shape,
                "exported" if exported else "loaded from cache", call.setup_seconds, folder)
    return call


def _require(runtime: str) -> None:
    """Import the packages ``runtime`` needs; ``RuntimeUnavailableError`` naming it when one is missing."""
    for module in (runtime, "onnx", "onnxscript"):
        try:
            __import__(module)
        except ImportError as e:
            raise RuntimeUnavailableError(f"runtime {runtime} is not installed: cannot import {module} "
                                          f"(pip install {_PIP[runtime]}; pinned in requirements.txt): {e}") from e


def _torch_call(net, runtime, dev, input_shape, channels_last, autocast) -> NetworkCall:
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    model = net
    if runtime == "compile":
        try:
            model = torch.compile(net, dynamic=False)
        except Exception as e:  # backend missing / unsupported platform: name the runtime
            raise RuntimeUnavailableError(f"runtime compile: torch.compile failed to set up: {e}") from e
    dtype = AUTOCAST_DTYPES.get(autocast) if autocast else None

    def fn(x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=fmt)
        ctx = torch.autocast(dev.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
        with ctx:
            return model(x).float()

    return NetworkCall(runtime, input_shape, fn, pad=runtime == "compile")


@contextlib.contextmanager
def _exporter_quiet():
    """torch's ONNX exporter warns about packages it does not need (torchvision) and deprecations of its
    own, in its own log format: not the user's business, so hidden while it runs (errors still raise)."""
    import warnings

    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        exporter_log.setLevel(level)


def export_onnx(net: torch.nn.Module, folder: Path, input_shape: tuple[int, ...],
                runtime: str = "onnxruntime", two_level_norm: bool = False) -> tuple[Path, bool]:
    """``folder/model-torch<ver>-opset<N>[-norm2].onnx``, exported unless already there; (path, exported).

    ``two_level_norm``: InstanceNorms exported as two-level sums (:mod:`axonseg.inference.precise_norm`).
    """
    suffix = "-norm2" if two_level_norm else ""
    path = folder / f"model-torch{torch.__version__.split('+')[0]}-opset{ONNX_OPSET}{suffix}.onnx"
    if path.exists():
        return path, False
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    x = torch.zeros(input_shape, dtype=torch.float32)
    t0 = time.perf_counter()
    cpu_net = net.to("cpu", memory_format=torch.contiguous_format).eval()
    if two_level_norm:
        cpu_net, swapped = with_two_level_instance_norms(cpu_net)
        logger.info("runtime %s: %d InstanceNorms exported as two-level sums", runtime, swapped)
    try:
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), _exporter_quiet():
            torch.onnx.export(cpu_net, (x,), str(tmp), input_names=["x"], output_names=["logits"],
                              opset_version=ONNX_OPSET, dynamo=True, external_data=False, verbose=False)
    except Exception as e:  # the exporter raises many types; say which network and runtime
        tmp.unlink(missing_ok=True)
        raise RuntimeUnavailableError(f"runtime {runtime}: {type(net).__name__} does not export to ONNX "
                                      f"(torch.onnx.export, dynamo): {type(e).__name__}: {e}") from e
    os.replace(tmp, path)
    write_json(path.with_suffix(".json"), {
        "network": type(net).__name__, "input_shape": list(input_shape), "torch": torch.__version__,
        "opset": ONNX_OPSET, "two_level_norm": two_level_norm, "seconds": round(time.perf_counter() - t0, 2)}, indent=1)
    return path, True


def _onnxruntime_fn(onnx_path: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime's own exception types (Fail, InvalidGraph, ...)
        raise RuntimeUnavailableError(f"runtime onnxruntime cannot load {onnx_path}: {e}") from e
    name = sess.get_inputs()[0].name

    def fn(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(sess.run(None, {name: np.ascontiguousarray(x.numpy())})[0])

    return fn


def _openvino_ir(onnx_path: Path) -> tuple[Path, bool]:
    """OpenVINO IR (float32 weights) next to the ONNX file, converted unless already there."""
    import openvino as ov

    xml = onnx_path.with_suffix(f".ov{ov.__version__.split('-')[0]}.xml")
    if xml.exists() and xml.with_suffix(".bin").exists():
        return xml, False
    tmp = xml.with_name(f".{xml.stem}.{os.getpid()}.tmp.xml")
    try:
        ov.save_model(ov.convert_model(str(onnx_path)), str(tmp), compress_to_fp16=False)
    except Exception as e:  # OpenVINO's converter raises its own types
        raise RuntimeUnavailableError(f"runtime openvino cannot convert {onnx_path}: {e}") from e
    os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
    os.replace(tmp, xml)
    return xml, True


def _openvino_fn(xml: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": torch.get_num_threads(),
              "PERFORMANCE_HINT": "LATENCY"}
    try:
        compiled = ov.Core().compile_model(str(xml), "CPU", config)
    except Exception as e:  # OpenVINO's own exception types
        raise RuntimeUnavailableError(f"runtime openvino cannot compile {xml} for the CPU: {e}") from e
    request = compiled.create_infer_request()

    def fn(x: torch.Tensor) -> torch.Tensor:
        request.infer({0: np.ascontiguousarray(x.numpy())})
        return torch.from_numpy(request.get_output_tensor(0).data.copy())

    return fn
