"""The deployment files: the Dockerfile's promises, and compose and Kubernetes manifests that
parse, run real commands and name only settings, secrets and volumes that exist."""

from __future__ import annotations

import os
import re
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


def _with_secret_files(config: str, secrets: dict[str, str], tmp_path: Path) -> str:
    """The config with its /run/secrets files written under `tmp_path` instead."""
    folder = tmp_path / "run-secrets"
    folder.mkdir(exist_ok=True)
    for name, value in secrets.items():
        (folder / name).write_text(value)
    return config.replace("/run/secrets/", f"{folder}/")


def test_compose(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["pmsync"]
    _valid_command(service["command"])
    _valid_command(service["healthcheck"]["test"][2:])
    assert service["read_only"] is True
    assert ":latest" not in service["image"]
    for volume in service["volumes"]:
        source, _target = volume.split(":")[:2]
        if source.startswith("."):
            assert (DEPLOY / source).exists(), source
        else:
            assert source in compose["volumes"], source
    assert {"/config/config.toml", "/data"} <= {v.split(":")[1] for v in service["volumes"]}
    assert not [k for k in service["environment"] if "TOKEN" in k or "URL" in k]  # no secrets
    assert set(service["secrets"]) == set(compose["secrets"])
    env = dict(service["environment"])
    env["PMSYNC_CONFIG"] = str(tmp_path / "config.toml")
    env["PMSYNC_STATE_DIR"] = str(tmp_path / "data")
    secrets = dict.fromkeys(compose["secrets"], "mailtos://u:p@smtp.example.com")
    config = _with_secret_files((DEPLOY / "config.toml").read_text(), secrets, tmp_path)
    settings = _settings_with(env, config, (DEPLOY / "people.toml").read_text(), tmp_path)
    assert settings.digest.email_url is not None
    assert settings.trackers["gh"].kind == "github"
    assert settings.serve.port == 8080
    assert service["command"] == ["run", "--serve"]


def test_kubernetes(tmp_path: Path) -> None:
    docs = _k8s()
    kinds = {doc["kind"]: doc for doc in docs}
    assert {
        "Namespace",
        "CronJob",
        "Deployment",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "Service",
        "NetworkPolicy",
    } <= set(kinds)
    namespace = kinds["Namespace"]["metadata"]["name"]
    assert all(
        doc["metadata"].get("namespace") == namespace
        for doc in docs
        if doc is not kinds["Namespace"]
    )
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
        assert ":latest" not in container["image"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "env" not in container  # secrets are files, never environment variables
        [secrets] = [v for v in pod["volumes"] if "secret" in v]
        assert secrets["secret"]["secretName"] == secret["metadata"]["name"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts[secrets["name"]] == "/run/secrets"
        assert {"/config", "/data", "/postmortems"} <= set(mounts.values())
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == [kinds["PersistentVolumeClaim"]["metadata"]["name"]]
        config = _with_secret_files(config_map["config.toml"], secret["stringData"], tmp_path)
        settings = _settings_with(
            {"PMSYNC_STATE_DIR": str(tmp_path / "data")},
            config,
            config_map["people.toml"],
            tmp_path,
        )
        assert settings.digest.email_url is not None
    deployment = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    for probe in ("livenessProbe", "readinessProbe"):
        _valid_command(deployment[probe]["exec"]["command"][1:])
    [port] = deployment["ports"]
    assert port["containerPort"] == settings.serve.port
    assert deployment["args"] == ["run", "--serve"]
    [service_port] = kinds["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]


def test_kubernetes_checks_left_out_say_why() -> None:
    for doc in _k8s():
        for key, value in (doc["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert re.fullmatch(r"CKV2?_K8S_\d+", check)
                assert len(reason.split()) >= 5, value


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
