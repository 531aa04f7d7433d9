"""Qt without a screen, napari settings in a temporary folder; set before Qt or napari start.

The widget and reader tests use napari's ``ViewerModel`` (layers, no canvas) with pytest-qt's
``qtbot``: Qt's offscreen platform gives no OpenGL context without an X server, and a real
``napari.Viewer`` canvas needs one to draw image layers (vispy: ``glGetParameter`` -> None).
"""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NAPARI_CONFIG", os.path.join(tempfile.mkdtemp(prefix="napari-settings-"), "settings.yaml"))
