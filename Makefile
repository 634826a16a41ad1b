# The two commands of the README: `make video` renders, `make test` runs the tests.
# Both run scripts/setup.sh first (apt packages when missing, .venv, pip; fast when all is there).
PY := .venv/bin/python
LECTURE ?= ready
QUALITY ?= h30
JOBS ?= 2

.PHONY: setup video preview test test-fast coverage lint clean

setup:
	@bash scripts/setup.sh

video: setup  ## render every lecture marked ready, narrated, into media/lectures/
	$(PY) scripts/render.py --lecture $(LECTURE) --quality $(QUALITY) --jobs $(JOBS)
	$(PY) scripts/assemble.py --lecture $(LECTURE) --quality $(QUALITY)

preview: setup  ## fast look: 480p15, silent narration with estimated durations
	ATTN_VOICE=silent $(PY) scripts/render.py --lecture $(LECTURE) --quality l --jobs $(JOBS)
	ATTN_VOICE=silent $(PY) scripts/assemble.py --lecture $(LECTURE) --quality l

test: setup  ## the whole test suite, as CI runs it
	$(PY) -m pytest -q

test-fast: setup  ## skip the tests that render video or build environments
	$(PY) -m pytest -q -m "not slow"

coverage: setup  ## which outline topics have sections, which lectures are ready
	$(PY) scripts/coverage.py

lint: setup
	$(PY) -m ruff check attn_ref scenes scripts tests

clean:
	rm -rf media/videos media/images media/texts media/Tex media/lectures
