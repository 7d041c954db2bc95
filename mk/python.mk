# Python: the binding `net` (bindings/python, PyO3 + maturin) and the SDK `net_sdk` (sdk-py).
#
#   make test-python    virtualenv in $(PY_VENV) (created and filled when missing), debug build
#                       of the binding with `maturin develop`, the SDK installed editable,
#                       then clippy on the binding (its `extension` feature), ruff, mypy
#                       --strict and pytest (binding suite, then SDK suite)
#   make bench-python   release build, then sdk-py/bench/bench.py (Python next to Rust figures)
#   make python-env     only the virtualenv and the builds (for working on the Python code)
#
# Everything is built from source with the shared CARGO_TARGET_DIR. Tool caches (mypy, ruff,
# pytest) live inside the virtualenv, so the work tree stays clean.

TEST_TARGETS += test-python
BENCH_TARGETS += bench-python

PYTHON ?= python3
PY_VENV ?= $(CURDIR)/.venv
PY := $(PY_VENV)/bin/python
PY_STAMP := $(PY_VENV)/.net-mesh-deps
PY_DEPS := "maturin>=1.16,<2" "pytest>=9,<10" "pytest-asyncio>=1.5,<2" "pytest-timeout>=2.3,<3" "pydantic>=2.14,<3" \
	"ruff>=0.14,<1" "mypy>=1.18,<2" "hatchling>=1.27,<2" "typing_extensions>=4.12"
PY_ENV := VIRTUAL_ENV=$(PY_VENV) PATH="$(PY_VENV)/bin:$$PATH" \
	MYPY_CACHE_DIR=$(PY_VENV)/.cache/mypy RUFF_CACHE_DIR=$(PY_VENV)/.cache/ruff \
	PYTHONDONTWRITEBYTECODE=1
PY_SOURCES := bindings/python/python bindings/python/tests sdk-py/src sdk-py/tests sdk-py/bench
PYTEST := $(PY) -m pytest -p no:cacheprovider -q

.PHONY: test-python bench-python python-env python-venv python-lint

$(PY_STAMP): mk/python.mk
	@test -x $(PY) || $(PYTHON) -m venv $(PY_VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(PY_DEPS)
	@touch $@

python-venv: $(PY_STAMP)

# $(call py_build,MATURIN_FLAGS): build and install the binding, install the SDK editable.
define py_build
	cd bindings/python && $(PY_ENV) $(PY_VENV)/bin/maturin develop -q $(1)
	@$(PY) -c 'import net_sdk' 2>/dev/null || \
		$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e sdk-py
endef

python-env: python-venv
	$(call py_build,)

python-lint: python-venv
	$(PY_ENV) $(CARGO) clippy -q -p net-mesh-python --features extension --all-targets --no-deps -- -D warnings
	$(PY_ENV) ruff check $(PY_SOURCES)
	$(PY_ENV) ruff format --check $(PY_SOURCES)
	cd bindings/python && $(PY_ENV) mypy --strict python/net tests
	cd sdk-py && $(PY_ENV) mypy --strict src tests bench

test-python: python-env python-lint
	cd bindings/python && $(PY_ENV) $(PYTEST)
	cd sdk-py && $(PY_ENV) $(PYTEST)

bench-python: python-venv
	$(call py_build,--release)
	$(PY_ENV) $(PY) sdk-py/bench/bench.py
