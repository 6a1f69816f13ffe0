"""The deployment files: the Dockerfile's promises, and compose and Kubernetes manifests that
parse, run real commands and name only settings, secrets and volumes that exist."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.cli import _parser
from syncer.people import load_directory
from syncer.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _k8s() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return list(pod["containers"])


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def _valid_command(args: list[str]) -> None:
    _parser().parse_args(args)  # SystemExit on a command or option that does not exist


def _settings_with(env: dict[str, str], config: str, people: str, tmp_path: Path) -> Settings:
    (tmp_path / "config.toml").write_text(config)
    (tmp_path / "people.toml").write_text(people)
    for name in env:
        if name.startswith("PMSYNC_") and name not in ("PMSYNC_CONFIG", "PMSYNC_NOW"):
            section = name.removeprefix("PMSYNC_").split("__")[0].lower()
            assert section in Settings.model_fields, f"{name}: no such setting"
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = load_settings(tmp_path / "config.toml")
        load_directory(settings)
        return settings
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_the_dockerfile_keeps_its_promises() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") == 2  # multi-stage
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text
    assert 'CMD ["pmsync", "health"]' in text
    assert "org.opencontainers.image.title" in text
    assert "PMSYNC_STATE_DIR=/data" in text
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", ".pmsync"} <= set(ignored)


def test_compose(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["pmsync"]
    _valid_command(service["command"])
    _valid_command(service["healthcheck"]["test"][2:])
    assert service["read_only"] is True
    for volume in service["volumes"]:
        source, _target = volume.split(":")[:2]
        if source.startswith("."):
            assert (DEPLOY / source).exists(), source
        else:
            assert source in compose["volumes"], source
    assert {"/config/config.toml", "/data"} <= {v.split(":")[1] for v in service["volumes"]}
    env = {
        k: "mailtos://u:p@smtp.example.com" if "URL" in k else "x" for k in service["environment"]
    }
    env["PMSYNC_CONFIG"] = str(tmp_path / "config.toml")
    env["PMSYNC_STATE_DIR"] = str(tmp_path / "data")
    settings = _settings_with(
        env, (DEPLOY / "config.toml").read_text(), (DEPLOY / "people.toml").read_text(), tmp_path
    )
    assert settings.digest.email_url is not None
    assert settings.trackers["gh"].kind == "github"


def test_kubernetes(tmp_path: Path) -> None:
    docs = _k8s()
    kinds = {doc["kind"]: doc for doc in docs}
    assert {"CronJob", "Deployment", "ConfigMap", "Secret", "PersistentVolumeClaim"} <= set(kinds)
    assert kinds["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid"
    assert kinds["Deployment"]["spec"]["replicas"] == 1
    assert kinds["Deployment"]["spec"]["strategy"]["type"] == "Recreate"
    config_map = kinds["ConfigMap"]["data"]
    # The ConfigMap carries deploy/config.toml as it is, so the two cannot drift apart.
    assert config_map["config.toml"] == (DEPLOY / "config.toml").read_text()
    secret = kinds["Secret"]
    for workload in (kinds["CronJob"], kinds["Deployment"]):
        pod = _pod(workload)
        [container] = _containers(workload)
        _valid_command(container["args"])
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        env = {}
        for entry in container["env"]:
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"]
            env[entry["name"]] = secret["stringData"][ref["key"]]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/config", "/data", "/postmortems"} <= mounts
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == [kinds["PersistentVolumeClaim"]["metadata"]["name"]]
        settings = _settings_with(
            env, config_map["config.toml"], config_map["people.toml"], tmp_path
        )
        assert settings.digest.email_url is not None
    probe = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    _valid_command(probe["exec"]["command"][1:])


def test_the_crontab_line_runs_a_real_command() -> None:
    [line] = [
        x for x in (DEPLOY / "crontab").read_text().splitlines() if x and not x.startswith("#")
    ]
    fields = line.split(None, 5)
    command = shlex.split(fields[5].split("&&", 1)[1].split(">>")[0])
    assert command[0].endswith("pmsync")
    _valid_command(command[1:])
    assert command[-2:] == ["run", "--once"]


@pytest.mark.parametrize(
    "path", ["docker-compose.yml", "kubernetes/cronjob.yaml", "kubernetes/deployment.yaml"]
)
def test_the_deployment_page_shows_how_to_use(path: str) -> None:
    assert f"deploy/{path}" in (ROOT / "docs" / "deployment.md").read_text()
