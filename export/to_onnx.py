"""Export a trained keras_darts network (.keras) to ONNX, verified with ONNX Runtime.

Usage: python export/to_onnx.py MODEL.keras OUT.onnx [--opset 17] [--dataset NAME]
"""

import argparse
import os
import sys

import keras

from keras_darts.data import load_arrays, normalize
from keras_darts.export import export_onnx

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model")
parser.add_argument("out")
parser.add_argument("--opset", type=int)
parser.add_argument("--dataset", default="fashion_mnist_subset")
args = parser.parse_args()
if not os.path.isfile(args.model):
    sys.exit(f"error: no model file {args.model!r}")
_, (xt, _), info = load_arrays(args.dataset)
report = export_onnx(keras.models.load_model(args.model), args.out,
                     normalize(xt[:200], info).numpy(), opset=args.opset)
print(f"{report['path']}: opset {report['opset']}, max abs diff {report['max_abs_diff']:.2e}, "
      f"top-1 agreement {report['top1_agreement']:.3f}")
