"""napari dock widget: run ``axonseg predict`` on a file or an image layer, add the result as layers.

The prediction runs as a child process (:mod:`axonseg.napari._process`) watched by a napari
thread worker, so the viewer stays responsive; the progress bar follows the command's blocks
and *Cancel* stops it (a later run into the same output folder resumes). An image layer is
first written to a TIFF stack in a temporary folder, with the layer's scale as voxel size;
the result layers get the layer's translation, so they overlay it. The model is the shipped
starter model unless a model file is given.
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
from qtpy.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                            QLineEdit, QProgressBar, QPushButton, QWidget)

from axonseg.napari._process import PredictProcess, predict_command

if TYPE_CHECKING:
    import napari

logger = logging.getLogger(__name__)

FILE_SOURCE = "file or folder…"
POLL_S = 0.2


def _watch(process: PredictProcess) -> Iterator[tuple[int, int] | None]:
    """Generator for a napari thread worker: yields progress until the process ends."""
    while process.poll():
        time.sleep(POLL_S)
        yield process.progress()
    return process.wait()


def write_layer_input(layer, folder: Path) -> tuple[Path, tuple[float, float, float]]:
    """Write a 3-D image layer (level 0) to ``folder/<name>.tif``; returns the path and its voxel size."""
    from axonseg.io import write_tiff

    data = layer.data[0] if layer.multiscale else layer.data
    if data.ndim != 3 or getattr(layer, "rgb", False):
        raise ValueError(f"layer {layer.name!r}: predict needs a 3-D (z, y, x) grey image, got shape "
                         f"{tuple(data.shape)}")
    arr = np.asarray(data)
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        arr = arr.astype(np.float32)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in layer.name) or "layer"
    path = folder / f"{safe}.tif"
    write_tiff(path, arr)
    return path, tuple(float(s) for s in layer.scale[-3:])


class PredictWidget(QWidget):
    """Choose a file or image layer, run the starter model (or a given one), watch, cancel, view."""

    def __init__(self, napari_viewer: "napari.viewer.Viewer"):
        super().__init__()
        self.viewer = napari_viewer
        self.process: PredictProcess | None = None
        self.worker = None
        self.output: Path | None = None
        self._shift = (0.0, 0.0, 0.0)
        self._from_layer = False

        self.source = QComboBox()
        self.path = QLineEdit()
        self.path.setPlaceholderText("TIFF stack, TIFF slice folder, zarr / OME-Zarr, HDF5")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        self.out = QLineEdit()
        self.out.setPlaceholderText("new folder (empty: next to the file / a temporary folder)")
        self.model = QLineEdit()
        self.model.setPlaceholderText("empty: the shipped starter model")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.5)
        self.device = QComboBox()
        self.device.addItems(self._devices())
        self.run_button = QPushButton("Predict")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.status = QLabel("ready")
        self.status.setWordWrap(True)

        form = QFormLayout(self)
        form.addRow("input", self.source)
        form.addRow("file", row)
        form.addRow("output folder", self.out)
        form.addRow("model", self.model)
        form.addRow("mask threshold", self.threshold)
        form.addRow("device", self.device)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)

        self._refresh_sources()
        self.viewer.layers.events.inserted.connect(self._refresh_sources)
        self.viewer.layers.events.removed.connect(self._refresh_sources)
        app = QApplication.instance()
        if app is not None:  # napari quitting: stop a running prediction (it resumes next time)
            app.aboutToQuit.connect(self.cancel)

    @staticmethod
    def _devices() -> list[str]:
        import torch

        # the GPU first when torch sees one: the same default as predict's device auto (issue 18 item 45)
        return (["cuda"] if torch.cuda.is_available() else []) + ["cpu"]

    def _image_layers(self) -> list:
        from napari.layers import Image

        return [layer for layer in self.viewer.layers if isinstance(layer, Image) and layer.ndim == 3]

    def _refresh_sources(self, event=None) -> None:
        current = self.source.currentText()
        self.source.clear()
        self.source.addItem(FILE_SOURCE)
        self.source.addItems([layer.name for layer in self._image_layers()])
        index = self.source.findText(current)
        self.source.setCurrentIndex(max(index, 0))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Volume to predict")
        if path:
            self.path.setText(path)
            self.source.setCurrentIndex(0)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _prepare(self) -> list[str]:
        """The predict command for the chosen source; sets ``self.output`` (may write the layer)."""
        model = self.model.text().strip() or None
        out_text = self.out.text().strip()
        threshold, device = float(self.threshold.value()), self.device.currentText()
        if self.source.currentText() == FILE_SOURCE:
            text = self.path.text().strip()
            if not text:
                raise ValueError("choose a file or folder to predict, or an image layer")
            src = Path(text)
            if not src.exists():
                raise ValueError(f"{src}: no such file or folder")
            self.output = Path(out_text) if out_text else src.parent / f"{src.name.split('.')[0]}_axonseg"
            self._shift, self._from_layer = (0.0, 0.0, 0.0), False
            return predict_command(src, self.output, model, threshold, device)
        layer = self.viewer.layers[self.source.currentText()]
        tmp = Path(tempfile.mkdtemp(prefix="axonseg-napari-"))
        src, voxel = write_layer_input(layer, tmp)
        self.output = Path(out_text) if out_text else tmp / "prediction"
        self._shift, self._from_layer = tuple(float(t) for t in layer.translate[-3:]), True
        return predict_command(src, self.output, model, threshold, device, voxel)

    def start(self) -> None:
        """Start a prediction (the *Predict* button)."""
        from napari.qt.threading import create_worker

        try:
            cmd = self._prepare()
        except (ValueError, OSError) as exc:
            self.status.setText(f"cannot start: {exc}")
            return
        self.process = PredictProcess(cmd).start()
        self.progress.setRange(0, 0)  # busy until the first progress line
        self.status.setText(f"predicting into {self.output} …")
        self._set_running(True)
        self.worker = create_worker(_watch, self.process, _start_thread=False)
        self.worker.yielded.connect(self._on_progress)
        self.worker.returned.connect(self._on_done)
        self.worker.finished.connect(lambda: self._set_running(False))
        self.worker.start()

    def _on_progress(self, value: tuple[int, int] | None) -> None:
        if value is not None:
            done, total = value
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_done(self, returncode: int) -> None:
        assert self.process is not None and self.output is not None
        if self.process.cancelled:
            self.status.setText(f"cancelled; predicting into {self.output} again resumes")
            return
        if returncode != 0:
            self.status.setText(f"predict failed (exit {returncode}): {self.process.last_message()}")
            return
        from napari.layers import Layer

        from axonseg.napari._reader import prediction_layers

        for data, kwargs, kind in prediction_layers(self.output, include_input=not self._from_layer):
            kwargs["translate"] = tuple(t + s for t, s in zip(kwargs.get("translate", (0, 0, 0)), self._shift))
            self.viewer.add_layer(Layer.create(data, kwargs, kind))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"done: {self.output}")

    def cancel(self) -> None:
        """Stop the running prediction (the *Cancel* button)."""
        if self.process is not None and self.process.running():
            self.status.setText("cancelling …")
            self.process.cancel()
