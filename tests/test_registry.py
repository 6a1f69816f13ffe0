"""Connector kinds: one module each, found through the registry, loaded only when used."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest

from connectors import registry
from connectors.config import SourceSection, TrackerSection
from syncer.cli import main
from syncer.settings import load_settings
from tests.test_source_contract import SETUPS
from tests.test_tracker_contract import HARNESSES

ROOT = Path(__file__).resolve().parent.parent
BASES = {"sources": SourceSection, "trackers": TrackerSection}


@pytest.mark.parametrize(
    ("section", "kind"),
    [(section, kind) for section, kinds in registry.SECTIONS.items() for kind in kinds],
)
def test_every_kind_is_one_module_with_its_settings_model_and_factory(
    section: str, kind: str
) -> None:
    model = registry.config_model(section, kind)
    assert issubclass(model, BASES[section])
    assert get_args(model.model_fields["kind"].annotation) == (kind,)
    assert callable(registry.SECTIONS[section][kind].load().build)


def test_every_kind_joins_its_contract_suite() -> None:
    assert all(any(name.startswith(kind) for name in SETUPS) for kind in registry.SOURCES)
    assert all(any(name.startswith(kind) for name in HARNESSES) for kind in registry.TRACKERS)


@pytest.mark.parametrize("module", ["syncer/settings.py", "syncer/pipeline.py"])
def test_settings_and_pipeline_name_no_concrete_kind(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    ]
    modules = {kind.module for kinds in registry.SECTIONS.values() for kind in kinds.values()}
    assert not set(imported) & modules
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    kinds = {kind for kinds in registry.SECTIONS.values() for kind in kinds}
    assert not strings & kinds


def test_a_configuration_loads_only_the_kinds_it_uses(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n')
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from syncer.settings import load_settings\n"
        f"load_settings(Path({str(config)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('connectors.sources.', "
        "'connectors.trackers.', 'github', 'jira', 'google', 'gitlab', 'notion', "
        "'mammoth'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == (
        "['connectors.sources.content', 'connectors.sources.folder', "
        "'connectors.sources.git_history', 'connectors.sources.markdown_dir', "
        "'connectors.trackers.local']"
    )
    assert load_settings(config).sources["docs"].kind == "markdown-dir"


HEAVY = ("github", "jira", "apprise", "prometheus_client", "pydantic", "structlog", "requests")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["rules"], ["lint", "one.md"], ["extract", "one.md"]],
    ids=["help", "rules", "lint", "extract"],
)
def test_quick_commands_load_no_client_and_no_settings_library(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "one.md").write_text(
        "# Outage\n\n## Action items\n\n- [ ] Add an alert on queue depth (owner: @dana)\n"
    )
    script = (
        "import sys\n"
        "from syncer.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_lint_reads_only_the_sections_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.md").write_text(
        "# Outage\n\n## Action items\n\n- [ ] Add an alert on queue depth (owner: @dana)\n"
    )
    (tmp_path / "config.toml").write_text(
        '[rules]\nselect = ["PM2"]\n'  # what lint uses
        '[trackers.gh]\nkind = "github"\n'  # no repo, no token: sync would refuse this
        '[sources.docs]\nkind = "no-such-kind"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "one.md"]) == 0  # warnings only
    out = capsys.readouterr().out
    assert "PM201 no due date" in out
    assert "PM1" not in out  # only the selected rules ran
    assert main(["config", "check"]) == 2  # the whole file is still checked where it matters
    errors = capsys.readouterr().err
    assert "trackers.gh.repo: field required" in errors
    assert "sources.docs.kind: unknown kind" in errors


PURE = ("syncer.model", "syncer.planner", "syncer.policy", "connectors.extract", "rules")


def test_the_pure_core_imports_no_connector() -> None:
    script = (
        "import sys\n"
        f"for name in {PURE!r}:\n"
        "    __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('connectors.sources', "
        "'connectors.trackers'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# The base layer: what connectors and rules may use of `syncer` (the model, its errors and
# identities, logging, state files, lazy patterns). It uses nothing of the engine itself.
BASE = frozenset(
    {
        "syncer.model",
        "syncer.errors",
        "syncer.identity",
        "syncer.logs",
        "syncer.statefile",
        "syncer.lazy",
    }
)


def _imports(path: Path) -> set[str]:
    """The modules a file imports (`from a import b` counts `a.b` when b is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _layer_breaks(files: list[Path], allowed: Callable[[str], bool]) -> list[str]:
    root = Path(__file__).resolve().parent.parent
    return sorted(
        f"{path.relative_to(root)}: {name}"
        for path in files
        for name in _imports(path)
        if not allowed(name)
    )


def test_layers_hold() -> None:
    """Connectors know the model, not the engine; rules never reach into connectors; the
    base layer stands on nothing above it."""
    root = Path(__file__).resolve().parent.parent
    syncer_modules = {f"syncer.{p.stem}" for p in (root / "syncer").glob("*.py")}
    syncer_modules |= {f"syncer.{p.parent.name}" for p in (root / "syncer").glob("*/__init__.py")}

    def engine(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in syncer_modules - BASE)

    connectors = sorted((root / "connectors").rglob("*.py"))
    rules = sorted((root / "rules").rglob("*.py"))
    base = [root / (name.replace(".", "/") + ".py") for name in sorted(BASE)]
    assert _layer_breaks(connectors, lambda name: not engine(name)) == []
    assert (
        _layer_breaks(rules, lambda name: not engine(name) and not name.startswith("connectors"))
        == []
    )
    assert (
        _layer_breaks(
            base,
            lambda name: not engine(name) and not name.startswith(("connectors", "rules")),
        )
        == []
    )
    # And the check itself sees a break: the engine reaching the planner is one.
    assert _layer_breaks([root / "syncer" / "pipeline.py"], lambda name: not engine(name))
