# Thin wrappers over npm scripts. `make test` and `make demo` work on a fresh machine.
SHELL := /bin/bash
DRIVER ?= docker
# Every `make test` gets its own tag: its tests' namespaces start with it and the leak check
# judges only those, so runs beside each other on one engine do not fail each other.
RUN_TAG := t$(shell od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
RUN_DIR := .drivetrain/runs/$(RUN_TAG)

# Everything below runs on the project's own Node (the pinned `node` devDependency, which
# `npm ci` brings from the npm registry), whatever Node the machine has: npm scripts and
# npx put node_modules/.bin first on PATH, and so does this file. Only `npm ci` itself
# runs on the machine's Node, which needs no more than npm does.
MACHINE_PATH := $(PATH)
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: deps build typecheck infra test test-lines test-under-load fuzz stress-last-line demo conformance bench cluster clean

deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	PATH="$(MACHINE_PATH)" npm ci --no-audit --no-fund
	@node_modules/.bin/node -p '"node: the project runs on Node " + process.version' \
	  || { echo "node: npm ci did not install the project's Node (node_modules/.bin/node); see README, Node.js versions"; exit 1; }
	@touch $@

build: deps
	npm run build

typecheck: deps
	npm run typecheck

# Docker engine, the local busybox test image and the local image registry (installed and started when missing).
infra:
	bash test/infra/setup.sh

test: deps infra build
	@mkdir -p $(RUN_DIR)
	DRIVETRAIN_TEST_RUN=$(RUN_TAG) npx vitest run --reporter=default --reporter=json --outputFile.json=$(RUN_DIR)/report.json; \
	  status=$$?; \
	  $(MAKE) --no-print-directory test-lines RUN_TAG=$(RUN_TAG) || status=1; \
	  node test/infra/leak-check.mjs $(RUN_TAG) $${CI:+--remove} || status=1; \
	  node test/infra/summary.mjs $(RUN_DIR)/report.json $(foreach v,$(OTHER_NODE_LINES),$(RUN_DIR)/report-node-$(v).json) || status=1; exit $$status

# The other supported Node.js lines (README, Node.js versions), each brought from the npm
# registry by test/infra/node-line.sh, run the suites where one runtime differs from another:
# the contract and the drivers' conformance, the native driver, the CLI, the README's examples.
OTHER_NODE_LINES := 22.23.5 24.22.3
LINE_SUITES := test/unit test/drivers test/native test/k8s/pure.test.ts test/k8s/options.test.ts test/cli/usage.test.ts test/readme

test-lines: deps infra build
	@mkdir -p $(RUN_DIR)
	@status=0; for version in $(OTHER_NODE_LINES); do \
	  node=$$(bash test/infra/node-line.sh $$version) || { status=1; continue; }; \
	  echo "tests on Node $$version: $(LINE_SUITES)"; \
	  PATH="$$(dirname $$node):$$PATH" DRIVETRAIN_TEST_RUN=$(RUN_TAG) $$node node_modules/vitest/vitest.mjs run $(LINE_SUITES) \
	    --reporter=default --reporter=json --outputFile.json=$(RUN_DIR)/report-node-$$version.json || status=1; \
	done; exit $$status

# `make test` three times in a row while stress-ng loads every core (docs/reliability.md).
test-under-load: deps infra build
	bash test/infra/test-under-load.sh

# 200 follows in a row per driver whose last bytes must all arrive (docs/reliability.md).
stress-last-line: deps infra build
	bash test/infra/stress-last-line.sh

# The property tests at full size: at least 10,000 generated cases per property (`make test`
# runs a share of each), then a table of the cases each property ran.
fuzz: deps infra
	@mkdir -p .drivetrain
	@rm -f .drivetrain/fuzz-cases.jsonl
	DRIVETRAIN_FUZZ=full npx vitest run test/fuzz --testTimeout=1800000; \
	  status=$$?; \
	  node test/infra/fuzz-summary.mjs .drivetrain/fuzz-cases.jsonl 10000 || status=1; exit $$status

# Runs one echo through the best available driver (Docker when an engine answers, else native).
demo: deps build
	node dist/bundle/cli/bin.js demo

# The conformance suite against one driver: `make conformance DRIVER=k8s` (KUBECONFIG=… for a real cluster).
conformance: deps build
	@if [ "$(DRIVER)" != native ] && [ -z "$$KUBECONFIG$$DOCKER_HOST" ]; then bash test/infra/setup.sh; fi
	DRIVETRAIN_CONFORMANCE_DRIVER=$(DRIVER) npx vitest run test/drivers/$(DRIVER).test.ts

bench: deps infra build
	npm run bench

# KUBE_VERSION=1.28…1.34, FEATURE_GATES=A=true,B=false, KUBELET_VERSION, KUBELET_FEATURE_GATES pick the profile.
# exec: make passes a SIGTERM on to its own children only, so the server must be one of them.
cluster: deps infra
	exec node --import tsx test/k8s-server/main.ts

clean:
	rm -rf dist .drivetrain
