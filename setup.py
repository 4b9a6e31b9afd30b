"""keras_darts: differentiable architecture search for Keras 3."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


def _version():
    ns = {}
    exec(_read(os.path.join("keras_darts", "version.py")), ns)  # noqa: S102 - our own file
    return ns["__version__"]


setup(
    name="keras-darts",
    version=_version(),
    description="Differentiable neural architecture search (DARTS and successors) for Keras 3",
    long_description=_read("README.md"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_darts", "keras_darts.*"]),
    package_data={"keras_darts": ["data/embedded/*.npz", "data/embedded/*.txt"]},
    install_requires=[
        "keras>=3.8",
        "numpy>=1.26",
        "scikit-learn>=1.3",
        "matplotlib>=3.7",
    ],
    extras_require={
        "cpu": ["tensorflow-cpu>=2.16"],
        "gpu": ["tensorflow[and-cuda]>=2.16"],
        "tfds": ["tensorflow-datasets>=4.9", "importlib_resources>=6.0"],
        "export": ["tf2onnx>=1.16", "onnx>=1.15", "onnxruntime>=1.17", "ai-edge-litert>=1.0"],
        "tuner": ["keras-tuner>=1.4", "tensorboard"],
        "test": ["pytest>=8,<9", "pytest-timeout>=2.3", "pytest-xdist>=3.5"],
    },
    entry_points={"console_scripts": ["keras-darts=keras_darts.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
