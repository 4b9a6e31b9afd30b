# Two commands set up everything on a fresh machine:
#   make demo   - small search -> derived genotype -> short stand-alone training ->
#                 export to SavedModel, ONNX and TFLite (fp32, fp16, dynamic, int8) with
#                 parity reports, all on the embedded dataset -> the searched cell ranked
#                 among random cells of the space trained the same way
#   make test   - the whole test suite (slow end-to-end tests included)
# Each creates .venv and installs what it needs.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= runs/demo
# Random cells of the demo's search space, each trained like the searched one, to rank it
# (about 55 s each on 2 cores; `make demo BASELINE_SAMPLES=8` for a finer rank).
BASELINE_SAMPLES ?= 4

.PHONY: demo test test-fast venv clean

$(STAMP): requirements.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/keras-darts search --preset small --out $(OUT)/search
	$(VENV)/bin/keras-darts train --preset small --genotype $(OUT)/search/genotype.json --out $(OUT)/train
	$(VENV)/bin/keras-darts export --model $(OUT)/train/model.keras --out $(OUT)/export
	$(VENV)/bin/keras-darts profile $(OUT)/train/model.keras --latency
	$(VENV)/bin/keras-darts baseline --search $(OUT)/search --trained $(OUT)/train --samples $(BASELINE_SAMPLES) --out $(OUT)/baseline

# Two pytest-xdist workers (one per core; tracing is single-threaded Python). Tests that share
# an expensive fixture carry an xdist_group mark and stay on one worker (tests/helpers.py).
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider --timeout=1200 -q -n $(PYTEST_WORKERS) --dist loadgroup --durations=40

test-fast: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider --timeout=600 -q -m "not slow" -n $(PYTEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) runs build *.egg-info
