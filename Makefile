# Two commands do all the set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install bench clean

demo: $(STAMP)
	$(BIN)/shoebox demo

test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

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
	$(BIN)/python scripts/bench_labels.py
	$(BIN)/python scripts/bench_search.py
	$(BIN)/python scripts/bench_backfill.py

clean:
	rm -rf $(VENV) .shoebox
