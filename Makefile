# The two set-up commands of the README, and the checks CI runs.
# Needs only Python 3.11+ (as `python3`, or PYTHON=...) and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-instants lint check clean mutation

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pmsync needs Python 3.11 or newer; run make with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# Byte-compile pmsync now: a checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise
	@# compile every module again on every command.
	$(BIN)/python -m compileall -q syncer connectors rules
	@touch $(STAMP)

## Sync examples/ into the embedded local tracker and print the summary.
demo: $(STAMP)
	$(BIN)/pmsync --config config.example.toml --log-level warning sync

## Run the whole test suite.
test: $(STAMP)
	$(BIN)/pytest

# The tests that deal in days and weeks, again at two awkward instants: a Monday 00:30 UTC
# (before the weekly digest is due), and New Year's Eve 23:59 in UTC-10 (another day and year
# in UTC). Any test that reads the wall clock or the time zone fails here.
CLOCK_TESTS := tests/test_scheduler.py tests/test_followup.py tests/test_followup_trackers.py \
	tests/test_rules_followup.py tests/test_digest.py tests/test_report.py tests/test_policy.py \
	tests/test_dates.py tests/test_planner.py tests/test_cli.py tests/test_simulation.py \
	tests/test_document_life.py tests/test_notion.py tests/test_recurrence.py
test-instants: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider --at 2026-11-30T00:30:00+00:00 --tz UTC $(CLOCK_TESTS)
	$(BIN)/pytest -q -p no:cacheprovider --at 2026-12-31T23:59:00-10:00 --tz Pacific/Honolulu $(CLOCK_TESTS)

## Linters and type checks, as CI runs them.
lint: $(STAMP)
	$(BIN)/ruff check syncer connectors rules tests bench
	$(BIN)/ruff format --check syncer connectors rules tests bench
	$(BIN)/mypy --strict syncer connectors rules
	$(BIN)/hadolint Dockerfile

check: test test-instants lint

# Mutation testing of the core (not in CI; hours on two cores, resumable): the six core modules
# whole, and the trackers' paging and adoption by function. Runs the mutants with no result yet
# and prints those that survive; docs/mutation.md says what became of each.
# MUTMUT_OPTIONS="--max-children 2" sets how many run at once (two keep two cores busy).
MUTANTS := 'syncer.planner.*' 'syncer.identity.*' 'syncer.policy.*' 'syncer.progress.*' \
	'connectors.extract.fields.*' 'rules.checks.*' \
	'connectors.trackers.rest.x?RestApi?pages__*' 'connectors.trackers.rest.x?RestApi?following__*' \
	'connectors.trackers.rest.x?NumberedIssues?*' \
	'connectors.trackers.github.x?GithubApi?listing__*' \
	$(foreach f,snapshot _load_pages _save_pages _newest_number _newest_ours _number_of _filed_for _create_once,\
		'connectors.trackers.github.x?GithubTracker?$(f)__*' 'connectors.trackers.gitlab.x?GitlabTracker?$(f)__*') \
	'connectors.trackers.gitlab.x?GitlabApi?pages__*' 'connectors.trackers.gitlab.x?GitlabApi?following__*' \
	$(foreach f,snapshot _search _create_batch _bulk_results _adopt_or_fail _newer_than _below _by_number _pending _newest_number,\
		'connectors.trackers.jira.x?JiraTracker?$(f)__*')
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m tests.mutation $(MUTMUT_OPTIONS) $(MUTANTS)
	@echo "Surviving mutants (mutmut show <name> prints one's change):"
	@$(BIN)/mutmut results | grep ': survived$$' || true

clean:
	rm -rf $(VENV) .pmsync .pytest_cache .mypy_cache .ruff_cache
