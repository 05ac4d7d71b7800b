# Two commands for a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench load lint audit validate clean

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run dashboard.py

validate: $(STAMP)
	$(PY) -m hipguide validate

lint: $(STAMP)
	$(PY) -m ruff check .

audit: $(STAMP)
	$(PY) scripts/audit_dependencies.py

test: $(STAMP) lint audit
	$(PY) -m hipguide validate
	$(PY) -m hipguide vignettes
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/bench.py

load: $(STAMP)
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
