"""Everything that faces nnU-Net v1: its environment variables (``env``), its commands
(``commands``), raw-task writing (``task``), trainer registration (``registration``),
checkpoint loading under ``weights_only`` (``checkpoints``) and result folders (``plans``).

The rest of axonseg talks to nnU-Net only through this subpackage.
"""
