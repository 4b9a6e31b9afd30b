"""Export a trained keras_darts network (.keras) to a SavedModel, verified by reloading it.

Usage: python export/to_savedmodel.py MODEL.keras OUT_DIR [--dataset NAME]
"""

import argparse
import os
import sys

import keras

from keras_darts.data import load_arrays, normalize
from keras_darts.export import export_savedmodel

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model")
parser.add_argument("out")
parser.add_argument("--dataset", default="fashion_mnist_subset")
args = parser.parse_args()
if not os.path.isfile(args.model):
    sys.exit(f"error: no model file {args.model!r}")
_, (xt, _), info = load_arrays(args.dataset)
report = export_savedmodel(keras.models.load_model(args.model), args.out,
                           normalize(xt[:200], info).numpy())
print(f"{report['path']}: max abs diff {report['max_abs_diff']:.2e}, "
      f"top-1 agreement {report['top1_agreement']:.3f}")
