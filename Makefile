# Two commands set up everything on a fresh machine:
#   make demo   - a Single-DARTS search in the NAS-Bench-201 space -> derived cell -> stand-alone
#                 training -> a plain CNN trained the same way for the same wall time ->
#                 export to SavedModel, ONNX and TFLite (fp32, fp16, dynamic, int8) with parity
#                 reports, all on the embedded dataset -> the searched cell ranked among random
#                 cells of the space trained the same way -> one table: derived vs plain CNN
#   make test   - the whole test suite (slow end-to-end tests included)
# Each creates .venv and installs what it needs.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= runs/demo
SEED ?= 0
# The demo searches the NAS-Bench-201 space, where random cells range from all-`none` to
# all-convolution, so "does the search beat random sampling?" has a visible answer (README,
# "Does the search beat random sampling?").
# `make demo SEARCH_ARGS="--preset small" TRAIN_PRESET=small` runs it in the DARTS space.
SEARCH_ARGS ?= --preset nb201-small --method single-darts
TRAIN_PRESET ?= nb201-small
# Random cells of the demo's search space, each trained like the searched one, to rank it
# (13-35 s each on 2 cores; with 5 the demo takes about 4 minutes, 9-11 on a slow spell of
# the VM; BASELINE_SAMPLES=30 ranks it properly).
BASELINE_SAMPLES ?= 5
# The hand-designed network the derived one is measured against, trained by the same command
# with the same data and recipe for the same wall time (`keras-darts train --network`; it has
# no cells, so no auxiliary head and no drop-path, which a DARTS-space preset would set).
REFERENCE ?= plain-cnn

.PHONY: demo test test-fast venv clean

$(STAMP): requirements.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/keras-darts search $(SEARCH_ARGS) --seed $(SEED) --out $(OUT)/search
	$(VENV)/bin/keras-darts train --preset $(TRAIN_PRESET) --genotype $(OUT)/search/genotype.json --out $(OUT)/train
	$(VENV)/bin/keras-darts train --preset $(TRAIN_PRESET) --network $(REFERENCE) --no-auxiliary --drop-path 0 --same-time-as $(OUT)/train --out $(OUT)/reference
	$(VENV)/bin/keras-darts export --model $(OUT)/train/model.keras --out $(OUT)/export
	$(VENV)/bin/keras-darts baseline --search $(OUT)/search --trained $(OUT)/train --samples $(BASELINE_SAMPLES) --out $(OUT)/baseline
	$(VENV)/bin/keras-darts compare $(OUT)/train $(OUT)/reference --baseline $(OUT)/baseline --out $(OUT)/verdict.json

# Two pytest-xdist workers (one per core; tracing is single-threaded Python). Tests that share
# an expensive fixture carry an xdist_group mark and stay on one worker (tests/helpers.py).
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider --timeout=1200 -q -n $(PYTEST_WORKERS) --dist loadgroup --durations=40

test-fast: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider --timeout=600 -q -m "not slow" -n $(PYTEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) runs build *.egg-info
