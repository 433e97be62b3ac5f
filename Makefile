# SRS developer entry points. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: help install qt-libs demo screenshot test test-postgres check lint format typecheck bench resilience docs clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv with SRS and everything it needs

# Re-install whenever the package metadata changes.
$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "SRS needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -e '.[all,dev]'
	@# face_recognition pins dlib, which has no wheel: dlib-bin (above) provides it.
	$(BIN)/pip install --quiet --no-deps 'face_recognition==1.3.0'
	@# face_recognition quits with status 0 when its models cannot load: check the
	@# model files directly, then that the import reached its end.
	$(BIN)/python -W 'ignore:pkg_resources is deprecated' -c 'import pathlib, face_recognition_models as m; \
		assert pathlib.Path(m.face_recognition_model_location()).is_file(), "no model files"'
	@out=$$($(BIN)/python -W 'ignore:pkg_resources is deprecated' -c 'import cv2, face_recognition, PySide6, amqtt, sqlalchemy; \
		print("SRS installed")' 2>&1); echo "$$out"; \
		case "$$out" in *"SRS installed"*) ;; \
		*) echo "the install check failed: see the lines above"; exit 1;; esac
	@touch $@

# PySide6 brings Qt but not the X11/xcb libraries its xcb plugin loads (a fresh Debian
# desktop lacks libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1): ldd names the missing
# ones; as root they are apt-get installed, otherwise the command to do it is printed.
qt-libs: $(STAMP)  ## install (as root) or name the system libraries the dashboard needs
	$(BIN)/python -m srs.app.qt_libs --install

demo: $(STAMP)  ## run the whole system on the bundled footage
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(BIN)/python -m srs.app.qt_libs --install || true; fi
	$(BIN)/srs demo $(ARGS)

screenshot: $(STAMP)  ## take the README screenshot during the demo (no display needed)
	$(BIN)/srs demo --screenshot docs/img/dashboard-demo.png $(ARGS)

test: $(STAMP)  ## run the whole test suite (and build the docs strictly)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest $(ARGS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The tests that open a store, again on a throwaway PostgreSQL (Debian's postgresql
# package: initdb and pg_ctl) with a fresh schema per test (tests/postgres.py).
# Every test that reaches core's store (tests/test_engines.py keeps this whole).
PG_TESTS ?= tests/core tests/gui tests/test_site.py tests/test_nats_site.py tests/edge/test_install.py \
	tests/srs/app/test_init.py tests/srs/app/test_demo_report.py
test-postgres: $(STAMP)  ## run the store-touching tests on PostgreSQL
	SRS_TEST_DATABASE=postgresql QT_QPA_PLATFORM=offscreen $(BIN)/pytest $(PG_TESTS) $(ARGS)

check: lint typecheck  ## ruff (lint and format) and mypy, as CI runs them

CODE := srs edge broker core gui tests bench

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

format: $(STAMP)  ## rewrite the code in ruff's format
	$(BIN)/ruff format $(CODE)

typecheck: $(STAMP)
	$(BIN)/mypy srs edge broker core gui tests
	@# bench/core.py would shadow the core package in the same run.
	$(BIN)/mypy bench/*.py

bench: $(STAMP)  ## run the benchmarks (prints figures, asserts nothing)
	$(BIN)/python bench/edge.py
	$(BIN)/python bench/core.py
	$(BIN)/python bench/latency.py --encodings edge
	$(BIN)/python bench/latency.py --encodings every
	$(BIN)/python bench/wake.py
	$(BIN)/python bench/enrol.py
	$(BIN)/python bench/recognition.py

resilience: $(STAMP)  ## run the fault and hostile-input suite, rewrite docs/resilience.md
	PYTHONPATH=. $(BIN)/python -m tests.resilience.report

docs: $(STAMP)  ## build the documentation site into site/
	$(BIN)/mkdocs build --strict

clean:  ## remove the venv, caches and the default data dir
	rm -rf $(VENV) var build *.egg-info .pytest_cache .mypy_cache .ruff_cache site
