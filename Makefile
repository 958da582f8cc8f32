# The two commands of the README:
#   make train [ARGS="--epochs=3 ..."]   set up .venv and run the main job (mnist.flags)
#   make test                            set up .venv with the test extras and run the tests on every core (pytest-xdist)
# Offline, data is read from ../shared/data (or $VAMP_TF_DATA_DIR); with a network, TFDS downloads it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
FLAGFILE ?= mnist.flags
PYTEST_ARGS ?=

SHARED_DATA := $(abspath ../shared/data)
ifeq ($(VAMP_TF_DATA_DIR),)
ifneq ($(wildcard $(SHARED_DATA)/mnist.npz),)
export VAMP_TF_DATA_DIR := $(SHARED_DATA)
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: train test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.py | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: setup.py | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed

# With ARGS, the run goes to runs/<flagfile>-<hash of ARGS> (unless ARGS names a --workdir),
# so a short `make train ARGS=...` never blocks a plain `make train` with a config conflict.
ARGS_WORKDIR = $(if $(strip $(ARGS)),--workdir=runs/$(basename $(notdir $(FLAGFILE)))-$(shell printf '%s' '$(ARGS)' | md5sum | cut -c1-8),)

train: $(VENV)/.installed
	$(PY) -m trainers.main --flagfile=$(FLAGFILE) $(ARGS_WORKDIR) $(ARGS)

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n auto --dist worksteal tests $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
