# axonseg: two commands.
#   make demo   set everything up (once) and run the demo: the real D-LMBmap excerpt in
#               ../shared/data/dlmbmap (points -> labels -> fine-tune the starter model ->
#               predict), or synthetic tubes without it. DEMO_ARGS=... passes flags to
#               `axonseg demo` (e.g. --starter-model PATH).
#   make test   set everything up (once) and run the test suite
# `make starter-model` retrains the shipped starter model into starter_work/.
# `make setup` alone installs .venv and registers axonseg's trainers with nnU-Net v1.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# CPU wheel by default. For CUDA see README "GPU": make setup TORCH_SPEC=... TORCH_PIP_ARGS=...
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.axonseg-setup-done
DEMO_DIR ?= demo_output
DEMO_ARGS ?=

.PHONY: setup demo test unregister clean-demo starter-model

setup: $(STAMP)

$(STAMP): requirements.txt setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PY) -m pip freeze | grep -i '^torch==' > $(VENV)/torch-constraint.txt
	$(PY) -m pip install -q -c $(VENV)/torch-constraint.txt -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/axonseg register
	touch $(STAMP)

demo: setup
	$(VENV)/bin/axonseg demo --workdir $(DEMO_DIR) $(DEMO_ARGS)

test: setup
	$(PY) -m pytest -q tests

# Reproduce the shipped starter model v2 (needs ../shared/data/dlmbmap; ~1 h on 2 idle CPU cores).
# v1: .venv/bin/python scripts/train_starter_model_v1.py --workdir starter_v1_work
starter-model: setup
	$(PY) scripts/train_starter_model.py --workdir starter_work

unregister:
	$(VENV)/bin/axonseg unregister

clean-demo:
	rm -rf $(DEMO_DIR)
