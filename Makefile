# xray-vision: the two commands are `make run` and `make test`; see README.md.
# Needs only python3 (3.11+), java 17+ and mvn on a fresh machine: uv, .venv and the Kafka jars
# are fetched on first use and cached (.cache/, .venv/ are ignored by git).

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup native kafka-jars kafka-up kafka-down kafka-status kafka-logs lint test fuzz chaos bench bench-each \
	run demo down status up compose-tool compose-check config-reference doctor clean distclean dashboard-png tmux

UV_VERSION := 0.13.9
UVENV := .cache/uvenv
PY := .venv/bin/python
BROKER := $(PY) -m xray_testing.local_broker
# Like .ci/run: tests that need the real recordings find them beside the checkout unless told otherwise.
ifeq ($(origin XRAY_SAMPLE_DATA),undefined)
ifneq ($(wildcard ../shared/data/real),)
export XRAY_SAMPLE_DATA := $(abspath ../shared/data/real)
endif
endif
# mypy wants only folders that hold Python files
MYPY_PATHS := libs services conftest.py $(if $(shell find tests bench -name '*.py' 2>/dev/null | head -1),tests) \
	$(if $(wildcard bench/*.py),bench)

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## uv (bootstrapped into .cache/uvenv when missing) + `uv sync --frozen`
	@uv=""; \
	for cand in "$$(command -v uv || true)" "$(UVENV)/bin/uv"; do \
		if [ -n "$$cand" ] && "$$cand" --version >/dev/null 2>&1; then uv="$$cand"; break; fi; \
	done; \
	if [ -z "$$uv" ]; then \
		echo "setup: bootstrapping uv $(UV_VERSION) into $(UVENV)"; \
		rm -rf $(UVENV) && python3 -m venv $(UVENV) && \
		$(UVENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" || exit 1; \
		uv="$(UVENV)/bin/uv"; \
	fi; \
	"$$uv" sync --frozen --quiet
	@$(PY) -m xray_ops.native_build || echo "setup: the compiled modules were not built (no C compiler?); pure Python is used"

native: ## (re)compile the composer's and the engine's hot modules with mypyc (setup does it when stale)
	@$(PY) -m xray_ops.native_build --force

kafka-jars: setup ## fetch the Kafka broker + tools jars with mvn (only when missing or the pom changed)
	@$(BROKER) jars

kafka-up: kafka-jars ## start the local broker (returns after a produce/consume round trip)
	@$(BROKER) up

kafka-down: ## stop the local broker started by kafka-up and delete its data
	@if [ -x $(PY) ]; then $(BROKER) down; else echo "kafka-down: no .venv, nothing to stop"; fi

kafka-status: setup ## is the local broker running?
	@$(BROKER) status

kafka-logs: setup ## tail the local broker's server.log and JVM output
	@$(BROKER) logs

lint: setup ## ruff check, ruff format --check, mypy --strict
	@status=0; \
	echo "lint: ruff check"; .venv/bin/ruff check . || status=1; \
	echo "lint: ruff format --check"; .venv/bin/ruff format --check . || status=1; \
	echo "lint: mypy --strict $(strip $(MYPY_PATHS))"; .venv/bin/mypy --strict $(MYPY_PATHS) || status=1; \
	exit $$status

tmux: ## tmux for the dashboard's tmux test (installed with apt-get only when missing)
	@command -v tmux >/dev/null 2>&1 || { echo "tmux: installing with apt-get"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) >/dev/null \
		|| echo "tmux: could not install it; the tmux test will fail"; }

test: setup kafka-jars tmux ## lint + the whole pytest suite against a broker it starts and always stops
	@$(MAKE) --no-print-directory compose-tool || echo "test: no Compose parser; the compose file test will say so"
	@export XRAY_REQUIRE_NATIVE=$${XRAY_REQUIRE_NATIVE:-$$(command -v cc >/dev/null 2>&1 && echo 1 || echo 0)}; \
	$(PY) -m xray_testing.suite test $(PYTEST_ARGS)

fuzz: setup kafka-jars ## full fuzz: >=100,000 bad inputs per decoder + a larger DLQ sample on a broker
	@XRAY_FUZZ=full $(PY) -m xray_testing.suite pytest tests/fuzz tests/integration/fuzz -s -q

chaos: setup kafka-jars ## full chaos: >=500,000 raw events, 20 symbols, >=20 SIGKILLs, broker restart, scaling
	@XRAY_CHAOS=full $(PY) -m xray_testing.suite pytest tests/integration/chaos -s -q

bench: setup kafka-jars ## ONE table (docs/BENCHMARKS.md): throughput, latency, RSS vs same-run ceilings
	@$(PY) bench/report.py

bench-each: setup kafka-jars ## run every bench/*.py in turn against a broker it starts and stops
	@$(PY) -m xray_testing.suite bench

SYMBOLS ?= BTCUSDT,ETHUSDT
run: setup kafka-jars ## the whole stack here: broker, topics, every service, live feed of SYMBOLS, dashboard
	@.venv/bin/xray up --live --symbols "$(SYMBOLS)" $(RUN_ARGS)

demo: setup kafka-jars ## the same on a simulated market (no network needed); Ctrl-C stops it all
	@.venv/bin/xray up --demo $(DEMO_ARGS)

down: ## stop the stack of `make run` / `make demo` (if it runs detached or its terminal is gone)
	@.venv/bin/xray down

status: ## each service's health, lag and last error
	@.venv/bin/xray status

# Debian's docker-compose (1.29, Python) parses and validates a Compose file without a Docker engine.
compose-tool: ## install a Compose parser (Debian's docker-compose) when none is on the PATH
	@if ! command -v docker-compose >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "compose-tool: installing Debian's docker-compose"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 || \
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }; \
		else \
			echo "compose-tool: docker-compose not found; install it (apt-get install docker-compose)"; exit 1; \
		fi; \
	fi

compose-check: compose-tool ## validate deploy/compose.yaml (all profiles) with docker-compose config
	@docker-compose -f deploy/compose.yaml --profile dashboard --profile monitoring --profile schema-registry \
		config --quiet && echo "compose-check: deploy/compose.yaml is valid"

up: ## docker compose: the stack as containers (needs a Docker engine); SCALE="orchestrator=3" to scale
	@if docker compose version >/dev/null 2>&1; then dc="docker compose"; else dc="docker-compose"; fi; \
	$$dc -p xray-vision -f deploy/compose.yaml up --build $(foreach s,$(SCALE),--scale $(s))

config-reference: setup ## regenerate README.md's configuration reference from the settings models
	@$(PY) -m xray_ops.config_reference --write README.md

dashboard-png: setup kafka-jars ## docs/dashboard.png: the dashboard on the real recordings (rich SVG -> PNG)
	@if [ -z "$$KAFKA_BOOTSTRAP_SERVERS" ]; then $(BROKER) up && export $$($(BROKER) env); fi; \
	uv="$$(command -v uv || echo $(UVENV)/bin/uv)"; \
	"$$uv" run --frozen --with cairosvg python -m consumers.dashboards.docs_png

doctor: ## print tool versions and whether a broker answers
	@echo "python3: $$(python3 --version 2>&1)"; \
	echo "java:    $$(java -version 2>&1 | head -1 || echo missing)"; \
	echo "mvn:     $$(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g' || echo missing)"; \
	uv="$$(command -v uv || echo $(UVENV)/bin/uv)"; echo "uv:      $$($$uv --version 2>/dev/null || echo missing)"; \
	if [ -x $(PY) ]; then \
		echo "venv:    $$($(PY) --version)"; \
		$(PY) -m xray_testing.doctor; \
	else echo "venv:    missing (make setup)"; fi

clean: kafka-down ## stop the local broker; drop run data and tool caches (keeps .venv and the jars)
	rm -rf .cache/kafka/run .cache/test-status.json .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean ## clean + remove .venv, the uv bootstrap and the Kafka jars
	rm -rf .venv .cache
