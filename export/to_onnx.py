"""Export a trained keras_darts network (.keras) to ONNX, verified with ONNX Runtime.

Usage: python export/to_onnx.py MODEL.keras OUT.onnx [--opset 17] [--dataset NAME]
"""

import argparse
import os
import sys

import keras

from keras_darts.data import sample_images
from keras_darts.export import export_onnx

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model")
parser.add_argument("out")
parser.add_argument("--opset", type=int)
parser.add_argument("--dataset", default="fashion_mnist_subset",
                    help="test images: a dataset name, 'tfds:NAME' or an image folder")
args = parser.parse_args()
if not os.path.isfile(args.model):
    sys.exit(f"error: no model file {args.model!r}")
model = keras.models.load_model(args.model)
# Test images spread over the classes (seeded), at the size the network takes.
images = sample_images(args.dataset, 200, "eval", image_size=model.input_shape[1])[0]
report = export_onnx(model, args.out, images, opset=args.opset)
print(f"{report['path']}: opset {report['opset']}, max abs diff {report['max_abs_diff']:.2e}, "
      f"top-1 agreement {report['top1_agreement']:.3f}")
