# The two commands of the README. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PO := $(wildcard avis/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test lint translations

run: $(VENV)/.installed $(MO)
	$(BIN)/avis db upgrade
	$(BIN)/avis demo --if-empty
	$(BIN)/avis serve --with-scheduler

test: $(VENV)/.installed-test $(MO)
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Refresh the message catalogues after changing translatable text.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --omit-header \
		-o avis/translations/messages.pot .
	$(BIN)/pybabel update -i avis/translations/messages.pot -d avis/translations --width 100

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(VENV)/.installed $@

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@
