"""Export a trained keras_darts network (.keras) to a SavedModel, verified by reloading it.

Usage: python export/to_savedmodel.py MODEL.keras OUT_DIR [--dataset NAME]
"""

import argparse
import os
import sys

import keras

from keras_darts.data import sample_images
from keras_darts.export import export_savedmodel

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model")
parser.add_argument("out")
parser.add_argument("--dataset", default="fashion_mnist_subset",
                    help="test images: a dataset name, 'tfds:NAME' or an image folder")
args = parser.parse_args()
if not os.path.isfile(args.model):
    sys.exit(f"error: no model file {args.model!r}")
model = keras.models.load_model(args.model)
# Test images spread over the classes (seeded), at the size the network takes.
images = sample_images(args.dataset, 200, "eval", image_size=model.input_shape[1])[0]
report = export_savedmodel(model, args.out, images)
print(f"{report['path']}: max abs diff {report['max_abs_diff']:.2e}, "
      f"top-1 agreement {report['top1_agreement']:.3f}")
