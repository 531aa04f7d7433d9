"""axonseg: axon segmentation in whole mouse brains, as a plugin on nnU-Net v1."""
from setuptools import find_packages, setup

setup(
    name="axonseg",
    version="0.1.0",
    description="Axon segmentation in whole-brain light-sheet volumes on top of nnU-Net v1",
    python_requires=">=3.10",
    packages=find_packages(include=["axonseg", "axonseg.*"]) + ["axonseg_trainers"],
    # trainers/ installs under a non-generic import name.
    package_dir={"axonseg_trainers": "trainers"},
    package_data={"axonseg": ["configs/*.yaml", "models/*.pth", "models/*.md", "napari/napari.yaml"]},
    install_requires=[
        "torch>=2.6",
        "nnunet==1.7.1",
        "axial-attention==0.6.1",
        "numpy",
        "scipy",
        "scikit-image",
        "tifffile",
        "zarr>=3",
        "dask",
        "distributed",
        "h5py",
        "pyyaml",
        "tqdm",
        "psutil",
    ],
    extras_require={"timm": ["timm", "torchvision"]},
    entry_points={"console_scripts": ["axonseg = axonseg.cli.main:main"],
                  "napari.manifest": ["axonseg = axonseg.napari:napari.yaml"]},
)
