"""deploy/ agrees with the code: the container image, compose.yaml and the Kubernetes manifests.

Nothing here needs docker, a cluster or the network. Every manifest validates offline
against the Kubernetes schemas (kubernetes-validate); every variable the files give our
containers is a real setting, and each service gets the ones it needs; every probe and
health check asks a route the real app has, on the port the image's command listens on;
and the image's command itself, run here, starts a service that answers.
"""

import importlib.util
import json
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from kubernetes_validate import utils as kubernetes_validate
from starlette.routing import Match

from microservicios.common.context import context_of
from microservicios.common.registry import GATEWAY, SERVICES
from microservicios.common.secrets import PLACEHOLDER_SECRETS
from microservicios.common.settings import Settings
from tests.helpers import (
    REPO_ROOT,
    dependencies_at,
    eventually,
    free_port,
    make_settings,
    subprocess_env,
)

DEPLOY = REPO_ROOT / "deploy"
CONTAINERFILE = DEPLOY / "Containerfile"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"

NAMESPACE = "microservicios"
IMAGE = "microservicios:latest"
SECRET_VARIABLE = "SERVICE_SECRET"
# The oldest Kubernetes the manifests promise to work on, and the newest the installed
# kubernetes-validate knows: both must accept every document.
OLDEST_KUBERNETES = "1.28"
NEWEST_KUBERNETES = kubernetes_validate.major_minor(kubernetes_validate.latest_version())
WORKLOADS = ("Deployment", "StatefulSet", "Job")
NAMESPACED = {"ConfigMap", "Secret", "Service", *WORKLOADS}

MIGRATE_MISSING = importlib.util.find_spec("microservicios.migrate") is None
REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")  # Kubernetes' $(NAME) in env values
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")  # compose


def known_variables() -> set[str]:
    """Every environment variable a service reads: a Settings field in upper case, a
    `<NAME>_SERVICE_URL` of a registered service, and SERVICE (which one to serve)."""
    fields = {name.upper() for name in Settings.model_fields}
    urls = {url_variable(name) for name in SERVICES.names}
    return fields | urls | {"SERVICE"}


def url_variable(service: str) -> str:
    return f"{service.upper()}_SERVICE_URL"


def database_variable(service: str) -> str:
    return f"{service.upper()}_DATABASE_URL"


# --- the Containerfile ---------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """The final stage's instructions as (KEYWORD, arguments), continuations joined."""
    logical: list[tuple[str, str]] = []
    current = ""
    for raw in CONTAINERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # docker drops comment lines, also inside a continuation
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        logical.append((keyword.upper(), arguments.strip()))
        current = ""
    last_from = max(i for i, (keyword, _) in enumerate(logical) if keyword == "FROM")
    return logical[last_from:]


def exec_form(keyword: str, arguments: str) -> list[str]:
    """A JSON-array instruction. Shell form would run `sh -c`, which does not pass SIGTERM
    on to python: a `docker stop` or a pod's shutdown would wait and then kill it."""
    assert arguments.startswith("["), f"{keyword} tiene que ir en forma exec: {arguments}"
    argv = json.loads(arguments)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), arguments
    return argv


def last(keyword: str) -> str | None:
    found = [arguments for kw, arguments in instructions() if kw == keyword]
    return found[-1] if found else None


def image_command() -> list[str]:
    """What a container of the image runs when nobody gives it a command."""
    entrypoint, cmd = last("ENTRYPOINT"), last("CMD")
    argv = exec_form("ENTRYPOINT", entrypoint) if entrypoint else []
    argv += exec_form("CMD", cmd) if cmd else []
    assert argv, "la imagen no tiene comando"
    return argv


def option(argv: list[str], name: str) -> str:
    assert name in argv, f"{argv} no tiene {name}"
    return argv[argv.index(name) + 1]


def image_port() -> int:
    """The port the image's command serves on (--port)."""
    return int(option(image_command(), "--port"))


def healthcheck_command() -> list[str]:
    arguments = last("HEALTHCHECK")
    assert arguments, "la imagen no tiene HEALTHCHECK"
    _, _, command = arguments.partition("CMD ")
    return exec_form("HEALTHCHECK", command)


def urls_in(argv: list[str]) -> list[str]:
    return re.findall(r"https?://[^\s'\"]+", " ".join(argv))


def local_command(argv: list[str], port: int) -> list[str]:
    """The image's command as this machine runs it: this python, loopback, a free port.
    Only those three arguments change."""
    assert argv[0] == "python", argv
    assert option(argv, "--host") == "0.0.0.0", "en un contenedor escucha en todas las interfaces"
    local = [sys.executable, *argv[1:]]
    local[local.index("--host") + 1] = "127.0.0.1"
    local[local.index("--port") + 1] = str(port)
    return local


def image_user() -> str:
    user = last("USER")
    assert user, "la imagen corre como root: falta USER"
    return user


# --- Kubernetes ------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.y*ml") if path != KUSTOMIZATION)


def documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def all_documents() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in documents(path)]


def find(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in all_documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"hay {len(found)} {kind} '{name}' en deploy/k8s (tiene que haber 1)"
    return found[0]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in all_documents() if doc["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def our_containers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, container) for every container that runs our image."""
    return [
        (workload, container)
        for workload in all_documents()
        if workload["kind"] in WORKLOADS
        for container in containers(workload)
        if container["image"].split(":")[0] == IMAGE.split(":")[0]
    ]


def secret_value(name: str, key: str) -> str:
    secret = find("Secret", name)
    values = secret.get("stringData", {})
    assert key in values, f"el Secret '{name}' no tiene la clave '{key}'"
    return values[key]


def config_value(name: str, key: str) -> str:
    data = find("ConfigMap", name).get("data", {})
    assert key in data, f"el ConfigMap '{name}' no tiene la clave '{key}'"
    return data[key]


def k8s_environment(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as Kubernetes builds it: envFrom first, then env in
    order, each $(NAME) replaced by a variable defined before it (Kubernetes leaves an
    unknown reference as it is, which would end up inside a URL: here it fails)."""
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(find("ConfigMap", source["configMapRef"]["name"]).get("data", {}))
        elif "secretRef" in source:
            environment.update(find("Secret", source["secretRef"]["name"]).get("stringData", {}))
        else:
            pytest.fail(f"envFrom desconocido: {source}")
    for entry in container.get("env", []):
        if "value" in entry:
            value = entry["value"]
            for reference in REFERENCE.findall(value):
                assert reference in environment, (
                    f"{entry['name']} usa $({reference}), que no está definida antes"
                )
            environment[entry["name"]] = REFERENCE.sub(lambda m: environment[m[1]], value)
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["secretKeyRef"]
            environment[entry["name"]] = secret_value(ref["name"], ref["key"])
        elif "configMapKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["configMapKeyRef"]
            environment[entry["name"]] = config_value(ref["name"], ref["key"])
        else:
            pytest.fail(f"variable {entry['name']} sin valor que este test entienda: {entry}")
    return environment


def helper_variables(container: dict[str, Any]) -> set[str]:
    """Variables of `env` that exist only to be expanded into another one ($(NAME))."""
    entries = container.get("env", [])
    referenced = {name for e in entries for name in REFERENCE.findall(e.get("value", ""))}
    return {e["name"] for e in entries if e["name"] in referenced}


def deployment_of(service: str) -> dict[str, Any]:
    return find("Deployment", service)


def the_container(workload: dict[str, Any]) -> dict[str, Any]:
    ours = [c for c in pod_spec(workload)["containers"] if c["image"] == IMAGE]
    assert len(ours) == 1, f"{workload['metadata']['name']}: un contenedor con {IMAGE}"
    return ours[0]


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe's or Service's port (a number, or the name of a container port) as a number."""
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"el puerto '{port}' no es un puerto del contenedor {container['name']}"
    return named[port]


def selects(service: dict[str, Any], workload: dict[str, Any]) -> bool:
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    selector = service["spec"].get("selector", {})
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def migration_service(argv: list[str]) -> str | None:
    """The service of a `python -m microservicios.migrate SERVICE` command, else None."""
    if argv[:3] == ["python", "-m", "microservicios.migrate"] and len(argv) == 4:
        return argv[3]
    return None


def migration_job(service: str) -> dict[str, Any] | None:
    jobs = [
        job
        for job in of_kind("Job")
        if migration_service(the_container(job).get("command", [])) == service
    ]
    assert len(jobs) <= 1, f"más de un Job migra '{service}'"
    return jobs[0] if jobs else None


def postgres_env(workload: dict[str, Any]) -> dict[str, str]:
    (postgres,) = [c for c in pod_spec(workload)["containers"] if c["image"].startswith("postgres")]
    return k8s_environment(postgres)


# --- compose ---------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    with COMPOSE.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def compose_services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def interpolate(value: str) -> str:
    """What compose puts in a value with nothing set in the environment: ${X:-default}
    becomes its default; ${X:?error} (must be set) a marker naming X."""

    def one(match: re.Match) -> str:
        name, operator, word = match.groups()
        if operator and operator.endswith("?"):
            return f"<{name}>"
        return word if operator else ""

    return INTERPOLATION.sub(one, value)


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):  # the KEY=value form
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(str(value)) for name, value in environment.items()}


def built_from_containerfile(service: dict[str, Any]) -> bool:
    return "build" in service


def compose_command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    assert command is None or isinstance(command, list), "command en forma de lista"
    return command or image_command()


def compose_app_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the image's own command: our services."""
    return {
        name: service
        for name, service in compose_services().items()
        if built_from_containerfile(service) and "command" not in service
    }


def healthcheck_urls(test: list[str]) -> list[str]:
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), test
    return urls_in(test[1:])


# --- the real apps ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunningApp:
    client: TestClient
    dependencies: frozenset[str]  # the services it calls (one breaker each)
    has_database: bool

    def required_variables(self, service: str) -> set[str]:
        required = {"SERVICE", SECRET_VARIABLE} | {url_variable(d) for d in self.dependencies}
        return required | ({database_variable(service)} if self.has_database else set())


@pytest.fixture(scope="module")
def apps(tmp_path_factory, nowhere) -> Iterator[dict[str, RunningApp]]:
    """Each registered service built with its real `create_app(settings)` and started."""
    with ExitStack() as stack:
        running = {}
        for entry in SERVICES:
            data_dir = tmp_path_factory.mktemp(entry.name)
            settings = make_settings(data_dir, **dependencies_at(nowhere))
            client = stack.enter_context(TestClient(entry.load_factory()(settings)))
            context = context_of(client.app)
            running[entry.name] = RunningApp(
                client=client,
                dependencies=frozenset(context.breakers),
                has_database=context.database is not None,
            )
        yield running


def has_route(app: Any, path: str) -> bool:
    """Whether one of the app's routes takes GET `path` (asked the way Starlette routes a
    request, so routes of included routers count too)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def assert_health_path(app: RunningApp, url_or_path: str, port: int, where: str) -> None:
    """A probe or health check: a route of the real app that answers 200, on the port the
    image's command listens on."""
    parts = urlsplit(url_or_path)
    path = parts.path or "/"
    assert has_route(app.client.app, path), f"{where}: {path} no es una ruta del servicio"
    assert app.client.get(path).status_code == 200, f"{where}: {path} no responde 200"
    assert port == image_port(), f"{where}: puerto {port}, pero la imagen escucha en {image_port()}"


# === 1. every manifest validates offline against the Kubernetes schemas ================


@pytest.mark.parametrize("version", sorted({OLDEST_KUBERNETES, NEWEST_KUBERNETES}))
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_manifest_validates_offline(path, version):
    """Strict schemas: a misspelt field (livenesProbe) or a wrong type ("8000") fails,
    and so does a kind or apiVersion that Kubernetes `version` does not have."""
    shipped = {kubernetes_validate.major_minor(v) for v in kubernetes_validate.all_versions()}
    if version not in shipped:
        pytest.skip(f"kubernetes-validate instalado no trae los esquemas de {version}")
    docs = documents(path)
    assert docs, f"{path.name} está vacío"
    for doc in docs:
        name = f"{path.name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            assert kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            pytest.fail(f"{name} no valida contra Kubernetes {version}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{name}: {error.message}")


def test_kustomization_applies_every_manifest_in_the_namespace():
    """`kubectl apply -k deploy/k8s` applies every file of the folder, each resource in
    the microservicios namespace."""
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert set(listed) == {path.name for path in manifest_files()}
    assert kustomization.get("namespace") == NAMESPACE
    assert find("Namespace", NAMESPACE)
    for doc in all_documents():
        if doc["kind"] in NAMESPACED:
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl no está instalado")
def test_kubectl_kustomize_builds_every_resource():
    """What `kubectl apply -k deploy/k8s` would send (built offline by kubectl's own
    kustomize): every resource of the folder, once, in the namespace."""
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    resources = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    names = sorted((d["kind"], d["metadata"]["name"]) for d in resources)
    assert names == sorted((d["kind"], d["metadata"]["name"]) for d in all_documents())
    for doc in resources:
        if doc["kind"] in NAMESPACED:
            assert doc["metadata"]["namespace"] == NAMESPACE


# === 2. manifests, compose file and Settings agree ======================================


def test_the_apps_are_what_the_checks_below_assume(apps):
    """Guard for the agreement checks: the real apps report their dependencies and their
    databases (otherwise the checks would pass vacuously)."""
    assert apps[GATEWAY].dependencies == set(SERVICES.backends)
    assert apps["orders"].dependencies >= {"users", "items"}
    assert not apps[GATEWAY].has_database
    assert all(apps[name].has_database for name in ("users", "items", "orders"))


def test_every_variable_given_to_our_containers_is_a_real_setting():
    """A typo (SERVICE_SECERT, USER_SERVICE_URL) is a variable no service reads: it fails
    here. The only exceptions are helper variables that another entry expands ($(NAME))."""
    known = known_variables()
    checked = 0
    for workload, container in our_containers():
        where = f"k8s {workload['kind']}/{workload['metadata']['name']}"
        environment = k8s_environment(container)
        unknown = set(environment) - known - helper_variables(container)
        assert not unknown, f"{where}: variables que ningún servicio lee: {sorted(unknown)}"
        checked += 1
    for name, service in compose_services().items():
        if built_from_containerfile(service):
            unknown = set(compose_environment(service)) - known
            assert not unknown, f"compose {name}: variables que ningún servicio lee: {unknown}"
            checked += 1
    assert checked >= 2 * len(SERVICES.names)


@pytest.mark.parametrize("service", SERVICES.names)
def test_each_k8s_deployment_gets_what_its_service_reads(apps, service):
    """SERVICE names it; SERVICE_SECRET comes from the Secret; the URL of every service it
    calls points to that service's Service, on its port; its database URL (if it has one)
    reaches its own PostgreSQL, as the user, database and password that PostgreSQL has."""
    app = apps[service]
    deployment = deployment_of(service)
    container = the_container(deployment)
    assert container.get("imagePullPolicy") == "IfNotPresent"
    assert "command" not in container and "args" not in container, "el comando de la imagen"
    environment = k8s_environment(container)

    missing = app.required_variables(service) - set(environment)
    assert not missing, f"Deployment {service}: faltan {sorted(missing)}"
    assert environment["SERVICE"] == service
    secret_entries = [e for e in container["env"] if e["name"] == SECRET_VARIABLE]
    assert len(secret_entries) == 1 and "secretKeyRef" in secret_entries[0]["valueFrom"]
    # The shipped value is a published placeholder the services refuse off loopback: a
    # student who forgets to change it gets a clear refusal, not a cluster with a known secret.
    assert environment[SECRET_VARIABLE] in PLACEHOLDER_SECRETS

    for dependency in app.dependencies:
        url = urlsplit(environment[url_variable(dependency)])
        target = find("Service", url.hostname)
        assert selects(target, deployment_of(dependency)), f"{url.hostname} no elige {dependency}"
        assert url.port in [p["port"] for p in target["spec"]["ports"]]

    if app.has_database:
        check_k8s_database_url(environment[database_variable(service)], service)
    else:
        assert database_variable(service) not in environment
        assert migration_job(service) is None


def check_k8s_database_url(value: str, service: str) -> None:
    url = urlsplit(value)
    assert url.scheme == "postgresql+asyncpg", value
    database = find("StatefulSet", url.hostname)
    assert database["metadata"]["name"] == f"{service}-db", "cada servicio, su propia base"
    assert selects(find("Service", url.hostname), database)
    postgres = postgres_env(database)
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.path == f"/{postgres['POSTGRES_DB']}"
    ports = [p["port"] for p in find("Service", url.hostname)["spec"]["ports"]]
    assert url.port in ports


@pytest.mark.parametrize("service", SERVICES.names)
def test_each_database_has_a_migration_job_with_the_same_url(apps, service):
    """A migration Job per service with a database; it migrates exactly the database the
    service uses (same URL), with `python -m microservicios.migrate SERVICE`."""
    if not apps[service].has_database:
        assert migration_job(service) is None
        return
    job = migration_job(service)
    assert job is not None, f"falta el Job de migración de '{service}'"
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")
    assert the_container(job).get("imagePullPolicy") == "IfNotPresent"
    job_environment = k8s_environment(the_container(job))
    service_environment = k8s_environment(the_container(deployment_of(service)))
    variable = database_variable(service)
    assert job_environment.get(variable) == service_environment[variable]
    unknown = set(job_environment) - known_variables() - helper_variables(the_container(job))
    assert not unknown


@pytest.mark.parametrize("service", SERVICES.names)
def test_each_k8s_probe_asks_a_real_route_on_the_served_port(apps, service):
    """Liveness, readiness and startup probes: a route of the real app that answers 200,
    on the container port, which is the port of the image's command; the Service sends
    traffic there too."""
    deployment = deployment_of(service)
    container = the_container(deployment)
    assert [p["containerPort"] for p in container["ports"]] == [image_port()]
    probes = {k: v for k, v in container.items() if k.endswith("Probe")}
    assert {"livenessProbe", "readinessProbe"} <= set(probes)
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for kind, probe in probes.items():
        port = container_port(container, probe["httpGet"]["port"])
        assert_health_path(apps[service], probe["httpGet"]["path"], port, f"{service} {kind}")

    services = [s for s in of_kind("Service") if selects(s, deployment)]
    assert [s["metadata"]["name"] for s in services] == [service]
    for port in services[0]["spec"]["ports"]:
        assert container_port(container, port["targetPort"]) == image_port()


@pytest.mark.parametrize("workload", [*WORKLOADS])
def test_workloads_run_as_non_root_with_resources(workload):
    """Every pod: not root (our containers as the image's USER), no privilege escalation,
    every container with resource requests and limits, and no environment variables added
    behind our back (enableServiceLinks: false; Kubernetes would add USERS_SERVICE_HOST,
    USERS_PORT... for every Service, which the agreement checks above cannot see)."""
    uid, _, gid = image_user().partition(":")
    found = of_kind(workload)
    assert found
    for doc in found:
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec.get("enableServiceLinks") is False, doc["metadata"]["name"]
        for container in containers(doc):
            where = f"{workload}/{doc['metadata']['name']} {container['name']}"
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), where
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
            if container["image"] == IMAGE:
                assert spec["securityContext"]["runAsUser"] == int(uid), where
                assert str(spec["securityContext"]["runAsGroup"]) == (gid or uid), where


def test_orders_and_items_run_two_replicas_and_databases_keep_their_data():
    replicas = {name: deployment_of(name)["spec"]["replicas"] for name in SERVICES.names}
    assert replicas == {"users": 1, "items": 2, "orders": 2, GATEWAY: 1}
    for database in of_kind("StatefulSet"):
        assert database["spec"]["replicas"] == 1
        (claim,) = database["spec"]["volumeClaimTemplates"]
        (postgres,) = pod_spec(database)["containers"]
        assert postgres["image"] == "postgres:15"
        mounts = {m["name"]: m["mountPath"] for m in postgres["volumeMounts"]}
        assert mounts[claim["metadata"]["name"]] == "/var/lib/postgresql/data"
        for probe in ("livenessProbe", "readinessProbe"):
            assert postgres[probe]["exec"]["command"][0] == "pg_isready"


@pytest.mark.parametrize("service", SERVICES.names)
def test_each_compose_service_gets_what_its_service_reads(apps, service):
    """The same agreement in compose.yaml: SERVICE, a SERVICE_SECRET the student must set,
    the URLs of the services it calls (compose service name, image port), its own
    PostgreSQL as that PostgreSQL is configured."""
    app = apps[service]
    services = compose_services()
    ours = compose_app_services()
    assert set(ours) == set(SERVICES.names)
    environment = compose_environment(ours[service])
    missing = app.required_variables(service) - set(environment)
    assert not missing, f"compose {service}: faltan {sorted(missing)}"
    assert environment["SERVICE"] == service
    raw_secret = ours[service]["environment"][SECRET_VARIABLE]
    assert raw_secret.startswith("${SERVICE_SECRET:?"), (
        "el secreto lo tiene que poner quien lo corre"
    )

    for dependency in app.dependencies:
        url = urlsplit(environment[url_variable(dependency)])
        assert url.hostname in ours and compose_environment(ours[url.hostname])["SERVICE"] == (
            dependency
        )
        assert url.port == image_port()

    if app.has_database:
        url = urlsplit(environment[database_variable(service)])
        assert url.scheme == "postgresql+asyncpg"
        assert url.hostname == f"{service}-db"
        postgres = services[url.hostname]
        assert postgres["image"] == "postgres:15"
        settings = compose_environment(postgres)
        assert url.username == settings["POSTGRES_USER"]
        assert url.password == settings["POSTGRES_PASSWORD"]
        assert url.path == f"/{settings['POSTGRES_DB']}"
        assert url.port == 5432
    else:
        assert database_variable(service) not in environment


# === 3. compose: start order by health, one-shot migrations, one published port ========


@pytest.mark.parametrize("service", SERVICES.names)
def test_compose_starts_each_service_after_what_it_needs(apps, service):
    """Its database healthy (pg_isready), its migration completed successfully (a one-shot
    running `python -m microservicios.migrate`), the services it calls healthy; its own
    health check asks a real route on the image's port."""
    services = compose_services()
    ours = services[service]
    assert built_from_containerfile(ours)
    build = ours["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == REPO_ROOT
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == CONTAINERFILE

    depends_on = ours.get("depends_on", {})
    assert isinstance(depends_on, dict), "depends_on con condiciones"
    conditions = {name: spec["condition"] for name, spec in depends_on.items()}
    expected = dict.fromkeys(apps[service].dependencies, "service_healthy")
    if apps[service].has_database:
        expected[f"{service}-db"] = "service_healthy"
        expected[f"{service}-migrate"] = "service_completed_successfully"
    assert conditions == expected

    for name, condition in conditions.items():
        target = services[name]
        if condition == "service_healthy":
            test = target["healthcheck"]["test"]
            assert not target["healthcheck"].get("disable")
            if target.get("image", "").startswith("postgres"):
                assert "pg_isready" in test and "127.0.0.1" in test
        else:
            assert migration_service(target["command"]) == service
            assert target.get("restart") == "no" and built_from_containerfile(target)
            migrate = compose_environment(target)
            assert (
                migrate[database_variable(service)]
                == compose_environment(ours)[database_variable(service)]
            )
            assert set(migrate) <= known_variables()
            assert target["depends_on"] == {f"{service}-db": {"condition": "service_healthy"}}

    for url in healthcheck_urls(ours["healthcheck"]["test"]):
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1"
        assert_health_path(apps[service], url, parts.port, f"compose {service} healthcheck")


def test_compose_publishes_only_the_gateway_on_loopback():
    """Only the gateway is reachable from outside, and only from this machine."""
    services = compose_services()
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {GATEWAY}
    for port in published[GATEWAY]:
        if isinstance(port, dict):  # long syntax
            assert port["host_ip"] == "127.0.0.1" and port["target"] == image_port()
        else:
            host_ip, _host_port, target = str(port).split(":")
            assert host_ip == "127.0.0.1" and int(target) == image_port()
    for name, service in services.items():
        assert "network_mode" not in service, name
        assert "expose" not in service or name == GATEWAY, name


def test_compose_gives_every_database_a_volume_and_a_migration():
    services = compose_services()
    databases = {n for n, s in services.items() if s.get("image", "").startswith("postgres")}
    assert databases == {f"{name}-db" for name in ("users", "items", "orders")}
    migrations = {
        migration_service(s["command"])
        for s in services.values()
        if "command" in s and migration_service(s["command"])
    }
    assert migrations == {name.removesuffix("-db") for name in databases}
    for name in databases:
        (volume,) = services[name]["volumes"]
        assert volume.split(":")[0] in compose()["volumes"]
        assert volume.endswith(":/var/lib/postgresql/data")


# === 4. the image's command starts a real service =======================================


def test_the_image_is_non_root_exposes_the_port_and_copies_what_exists():
    """FROM python:3.11-slim; every COPY source exists in the build context (the repo);
    a numeric non-root USER after the install; EXPOSE the command's port."""
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    for keyword, arguments in steps:
        if keyword == "COPY":
            *sources, _destination = arguments.split()
            for source in sources:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: no está en el proyecto"
                assert not source.startswith(".env"), "el .env con secretos no va en la imagen"
    uid = image_user().split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    keywords = [keyword for keyword, _ in steps]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    assert last("EXPOSE") == str(image_port())


def test_the_image_command_serves_the_service_chosen_by_the_variable(tmp_path):
    """The image's own command, run here (only python, host and port swapped for this
    machine's): with SERVICE=users it serves users, /health/ready answers 200, the image's
    HEALTHCHECK command passes against it, and SIGTERM (a container's stop) stops it."""
    port = free_port()
    argv = local_command(image_command(), port)
    assert "users" not in argv, "el servicio sale de la variable SERVICE"
    environment = subprocess_env(
        SERVICE="users", DATA_DIR=str(tmp_path / "data"), SERVICE_SECRET=secrets.token_hex(32)
    )
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/health/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert eventually(ready, seconds=30), "no respondió /health/ready"
        assert httpx.get(f"{base}/health").json()["service"] == "users"
        check = healthcheck_command()
        assert check[0] == "python"
        local_check = [sys.executable, *check[1:]]
        local_check = [a.replace(f":{image_port()}/", f":{port}/") for a in local_check]
        assert subprocess.run(local_check, env=environment, timeout=30).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM), errors[-2000:]
    assert '"event": "service.stopped"' in errors


def test_the_image_healthcheck_fails_when_nothing_answers():
    """The HEALTHCHECK is not always green: with no service on its port it exits non-zero."""
    check = [sys.executable, *healthcheck_command()[1:]]
    closed = free_port()
    check = [a.replace(f":{image_port()}/", f":{closed}/") for a in check]
    assert subprocess.run(check, capture_output=True, timeout=30).returncode != 0
    (url,) = urls_in(healthcheck_command())
    assert urlsplit(url).port == image_port() and urlsplit(url).path == "/health/live"


@pytest.mark.skipif(MIGRATE_MISSING, reason="python -m microservicios.migrate todavía no existe")
def test_the_migration_job_command_migrates_a_database(tmp_path):
    """The users Job's command (the same as compose's one-shot), run here on SQLite."""
    job_command = the_container(migration_job("users"))["command"]
    assert compose_command(compose_services()["users-migrate"]) == job_command
    database = tmp_path / "users.db"
    environment = subprocess_env(USERS_DATABASE_URL=f"sqlite:///{database.as_posix()}")
    for _ in range(2):  # a Job may run again: the second time there is nothing to do
        finished = subprocess.run(
            [sys.executable, *job_command[1:]],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert finished.returncode == 0, finished.stderr[-2000:]
    assert database.exists()
