"""Export a trained keras_darts network (.keras) to TFLite (batch 1), verified with LiteRT.

Usage: python export/to_tflite.py MODEL.keras OUT.tflite [--quantization float16|dynamic|int8]
"""

import argparse
import os
import sys

import keras

from keras_darts.data import sample_images
from keras_darts.export import export_tflite

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model")
parser.add_argument("out")
parser.add_argument("--quantization", choices=["float16", "dynamic", "int8"])
parser.add_argument("--dataset", default="fashion_mnist_subset",
                    help="test images for the check, training images for int8 calibration")
args = parser.parse_args()
if not os.path.isfile(args.model):
    sys.exit(f"error: no model file {args.model!r}")
model = keras.models.load_model(args.model)
# Test and calibration images spread over the classes (seeded), at the size the network takes.
size = model.input_shape[1]
images = sample_images(args.dataset, 200, "eval", image_size=size)[0]
calibration = sample_images(args.dataset, 200, "train", image_size=size)[0]
report = export_tflite(model, args.out, images, args.quantization, calibration)
print(f"{report['path']}: {report['quantization']}, {report['size_mb']} MB, max abs diff "
      f"{report['max_abs_diff']:.2e}, top-1 agreement {report['top1_agreement']:.3f}")
