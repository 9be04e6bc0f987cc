# Two commands do all the set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The Step Functions Data Science SDK, build-time only, in its own venv (it cannot be a normal dependency:
# docs/backfill.md "ASL generator"); the test suite checks that it generates the committed ASL.
ASL_VENV := .venv-asl
ASL_STAMP := $(ASL_VENV)/.installed-2.3.0

# `make rehearse` (issue 17): the deploy rehearsal (scripts/rehearse.py). SAM CLI in its own venv (its pins
# clash with the project's); asl-validator from npm into ./node_modules.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-1
NODE_STAMP := node_modules/.installed-asl-validator-3

# The gallery's browser tests (tests/gallery/test_browser.py) drive Debian's chromium through playwright;
# never `playwright install` (a browser build of its own). Installed from the Debian archive when missing.
CHROMIUM_STAMP := $(VENV)/.chromium-installed

.PHONY: demo test install bench asl clean rehearse

demo: $(STAMP)
	$(BIN)/shoebox demo

test: $(STAMP) $(ASL_STAMP) $(CHROMIUM_STAMP)
	SHOEBOX_ASL_PYTHON=$(ASL_VENV)/bin/python $(BIN)/pytest -q -n 2 --dist loadfile

$(CHROMIUM_STAMP):
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; \
	fi
	mkdir -p $(VENV) && touch $@

asl: $(ASL_STAMP)
	$(ASL_VENV)/bin/python scripts/build_asl.py --sdk require

$(ASL_STAMP):
	$(PYTHON) -m venv $(ASL_VENV)
	$(ASL_VENV)/bin/python -m pip install --quiet "boto3>=1.35,<2" "PyYAML>=6,<7"
	$(ASL_VENV)/bin/python -m pip install --quiet --no-deps "stepfunctions==2.3.0"
	touch $@

rehearse: $(STAMP) $(SAM_STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/rehearse.py

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli>=1.120,<2"
	touch $@

$(NODE_STAMP):
	npm install --no-save --no-audit --no-fund --silent asl-validator@3
	touch $@

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

bench: $(STAMP)
	$(BIN)/python scripts/bench_local_pipeline.py
	$(BIN)/python scripts/bench_thumbnail.py
	$(BIN)/python scripts/bench_faces.py
	$(BIN)/python scripts/bench_face_index.py
	$(BIN)/python scripts/bench_index_faces.py
	$(BIN)/python scripts/bench_labels.py
	$(BIN)/python scripts/bench_search.py
	$(BIN)/python scripts/bench_local_service.py
	$(BIN)/python scripts/bench_gallery.py
	$(BIN)/python scripts/bench_backfill.py

clean:
	rm -rf $(VENV) $(ASL_VENV) $(SAM_VENV) node_modules build .shoebox
