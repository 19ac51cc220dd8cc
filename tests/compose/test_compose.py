"""docker-compose.yml agrees with the real CLI, the real settings and the real health endpoint."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from click.testing import CliRunner

from placement.cli import main
from placement.core.settings import ENV_PREFIX, Settings

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = {"postgres", "redis", "migrate", "api", "worker"}
APP_SERVICES = ("migrate", "api", "worker")
SHELLS = {"sh", "bash", "dash", "ash"}
SHELL_PUNCTUATION = "();<>|&\n"
URL_PROBES = {
    "DATABASE_URL": "postgresql://probe:probe@probe.invalid:5432/probe",
    "REDIS_URL": "redis://probe.invalid:6379/7",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET", re.IGNORECASE)
# `${NAME}`, `${NAME?message}` or `${NAME:?message}`: a reference with no default baked in.
SECRET_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}")
URL_PASSWORD = re.compile(
    r"^[a-z][a-z0-9+.-]*://(?:\$\{[^}]*\}|[^:@/$])*:(?P<password>(?:\$\{[^}]*\}|[^@$])*)@"
)
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")

Service = dict[str, Any]


@dataclass(frozen=True)
class Invocation:
    """One `placement ...` command line found in a service, resolved against the real click group."""

    service: str
    args: tuple[str, ...]
    command: click.Command
    path: tuple[str, ...]
    rest: tuple[str, ...]

    @property
    def line(self) -> str:
        return shlex.join(["placement", *self.args])

    def parse(self) -> click.Context:
        """Parse the arguments as the command would (types, ranges, unknown options), without running it."""
        try:
            return self.command.make_context(self.path[-1], list(self.rest))
        except click.ClickException as error:
            pytest.fail(f"{self.service}: `{self.line}` does not parse: {error.format_message()}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict), "docker-compose.yml is not a mapping"
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Service]:
    found = compose.get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services"
    return found


@pytest.fixture(scope="module")
def invocations(services: dict[str, Service]) -> list[Invocation]:
    return [
        resolve(name, args)
        for name, service in services.items()
        for key in ("entrypoint", "command")
        if service.get(key) is not None
        for args in placement_commands(service[key])
    ]


def shell_commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell script: words split at `&&`, `||`, `;`, `|`, newlines."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=SHELL_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    words: list[str] = []
    for token in lexer:
        if token and all(char in SHELL_PUNCTUATION for char in token):
            if words:
                yield words
            words = []
        else:
            words.append(token)
    if words:
        yield words


def placement_words(words: Sequence[str]) -> Iterator[list[str]]:
    """The arguments of each `placement` run by these words, looking inside `sh -c "..."`."""
    words = list(words)
    while words and words[0] == "exec":
        words = words[1:]
    if not words:
        return
    program = PurePosixPath(words[0]).name
    if program == "placement":
        yield words[1:]
    elif program in SHELLS and "-c" in words[1:-1]:
        for command in shell_commands(words[words.index("-c") + 1]):
            yield from placement_words(command)


def placement_commands(command: str | Sequence[Any]) -> list[list[str]]:
    """Compose splits a string command into words itself (no shell); a list is taken as is."""
    words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    return list(placement_words(words))


def resolve(service: str, args: Sequence[str]) -> Invocation:
    """Walk the real `placement` group down to the command these arguments name."""
    command: click.Command = main
    path = ["placement"]
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        found = command.get_command(click.Context(command, info_name=path[-1]), rest[0])
        if found is None:  # left on the group: the test of real commands names the unknown one
            break
        command, path, rest = found, [*path, rest[0]], rest[1:]
    return Invocation(service, tuple(args), command, tuple(path), tuple(rest))


def options_used(args: Sequence[str]) -> Iterator[str]:
    for arg in args:
        if arg == "--":
            return
        if arg.startswith("-") and arg != "-":
            yield arg.split("=", 1)[0]


def declared_options(command: click.Command) -> set[str]:
    names = {
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }
    return names | set(command.get_help_option_names(click.Context(command)))


def the_invocation(invocations: list[Invocation], service: str) -> Invocation:
    found = [invocation for invocation in invocations if invocation.service == service]
    assert len(found) == 1, f"{service} should run exactly one placement command, runs {len(found)}"
    return found[0]


def environment(service: Service) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {name: value for name, _, value in pairs}
    return {str(name): "" if value is None else str(value) for name, value in env.items()}


def dependencies(service: Service) -> dict[str, str]:
    """Each dependency with its condition (the short list form means `service_started`)."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return {str(name): "service_started" for name in depends_on}
    return {str(name): (spec or {}).get("condition", "service_started") for name, spec in depends_on.items()}


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}` and `$$`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op is not None and op.endswith("?") and unset:
            raise KeyError(f"{name} is required: {arg}")
        if op is not None and op.endswith("-") and unset:
            return arg
        return value or ""

    return VARIABLE.sub(substitute, value)


def settings_read(name: str) -> bool:
    """Does `Settings.from_env` change anything when this variable is set?"""
    baseline = Settings.from_env({})
    for probe in (URL_PROBES[name],) if name in URL_PROBES else ("7", "1"):
        try:
            if Settings.from_env({name: probe}) != baseline:
                return True
        except ValueError:
            continue
    return False


def test_stack_is_postgres_16_redis_7_migrate_api_worker_with_healthchecks(
    services: dict[str, Service],
) -> None:
    assert set(services) == SERVICES
    postgres_tag = str(services["postgres"]["image"]).partition(":")[2]
    redis_tag = str(services["redis"]["image"]).partition(":")[2]
    assert str(services["postgres"]["image"]).startswith("postgres:")
    assert re.fullmatch(r"16([.-].*)?", postgres_tag), f"postgres image is not 16.x: {postgres_tag!r}"
    assert str(services["redis"]["image"]).startswith("redis:")
    assert re.fullmatch(r"7([.-].*)?", redis_tag), f"redis image is not 7.x: {redis_tag!r}"
    for name in ("postgres", "redis", "api"):
        healthcheck = services[name].get("healthcheck") or {}
        assert healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


def test_every_placement_command_is_a_real_cli_command_with_real_options(
    invocations: list[Invocation],
) -> None:
    assert {invocation.service for invocation in invocations} == set(APP_SERVICES)
    runner = CliRunner()
    for invocation in invocations:
        if isinstance(invocation.command, click.Group):
            group = " ".join(invocation.path)
            if invocation.rest and not invocation.rest[0].startswith("-"):
                pytest.fail(f"{invocation.service}: `{group}` has no command {invocation.rest[0]!r}")
            pytest.fail(f"{invocation.service}: `{invocation.line}` names a group, not a command")
        result = runner.invoke(main, [*invocation.args, "--help"])
        assert result.exit_code == 0, f"{invocation.service}: `{invocation.line} --help`: {result.output}"
        unknown = set(options_used(invocation.rest)) - declared_options(invocation.command)
        assert not unknown, f"{invocation.service}: `{invocation.line}` uses unknown options {unknown}"
        invocation.parse()


def test_app_services_get_only_variables_the_service_reads(services: dict[str, Service]) -> None:
    for name in APP_SERVICES:
        for variable in environment(services[name]):
            assert variable in URL_PROBES or variable.startswith(ENV_PREFIX), (
                f"{name}: {variable} is neither DATABASE_URL, REDIS_URL nor {ENV_PREFIX}*"
            )
            assert settings_read(variable), f"{name}: Settings.from_env does not read {variable}"


def test_no_secret_is_written_into_the_file(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for variable, value in environment(service).items():
            if SECRET_NAME.search(variable):
                assert SECRET_REFERENCE.fullmatch(value), (
                    f"{name}: {variable} must be a ${{...}} reference without a default, not {value!r}"
                )
            url_password = URL_PASSWORD.match(value)
            if url_password:
                assert SECRET_REFERENCE.fullmatch(url_password["password"]), (
                    f"{name}: the password in {variable} must be a ${{...}} reference without a default"
                )


def test_app_services_reach_the_stacks_postgres_and_redis(services: dict[str, Service]) -> None:
    required = {"POSTGRES_PASSWORD": "p-probe", "PLACEMENT_AUDIT_KEY": "k-probe"}
    variables = {**required, "POSTGRES_USER": "u-probe", "POSTGRES_DB": "d-probe"}
    for values in (required, variables):
        postgres = {k: interpolate(v, values) for k, v in environment(services["postgres"]).items()}
        for name in APP_SERVICES:
            env = {k: interpolate(v, values) for k, v in environment(services[name]).items()}
            settings = Settings.from_env(env)
            database = urlsplit(settings.sqlalchemy_url)
            assert (database.hostname, database.port) == ("postgres", 5432), name
            assert database.username == postgres["POSTGRES_USER"], name
            assert database.password == postgres["POSTGRES_PASSWORD"], name
            assert database.path == "/" + postgres["POSTGRES_DB"], name
            redis = urlsplit(settings.redis)
            assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379), name


def test_postgres_password_is_required_from_the_environment(services: dict[str, Service]) -> None:
    for name in ("postgres", *APP_SERVICES):
        with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
            for value in environment(services[name]).values():
                interpolate(value, {"PLACEMENT_AUDIT_KEY": "k"})


def test_the_audit_key_is_required_from_the_environment(services: dict[str, Service]) -> None:
    for name in APP_SERVICES:
        with pytest.raises(KeyError, match="PLACEMENT_AUDIT_KEY"):
            for value in environment(services[name]).values():
                interpolate(value, {"POSTGRES_PASSWORD": "p"})


def test_environment_defaults_are_the_service_defaults(services: dict[str, Service]) -> None:
    for name in APP_SERVICES:
        required = {"POSTGRES_PASSWORD": "p", "PLACEMENT_AUDIT_KEY": "k"}
        env = {k: interpolate(v, required) for k, v in environment(services[name]).items()}
        settings = Settings.from_env(env)
        expected = replace(
            Settings(), database_url=settings.database_url, redis_url=settings.redis_url, audit_key="k"
        )
        assert settings == expected, f"{name}: a compose default differs from the Settings default"


def test_api_leaves_worker_and_migration_to_their_services(
    services: dict[str, Service], invocations: list[Invocation]
) -> None:
    api = the_invocation(invocations, "api")
    assert api.path == ("placement", "serve")
    params = api.parse().params
    assert params["worker"] is False, "api must run with --no-worker: the worker service runs the jobs"
    assert params["migrate"] is False, "api must run with --no-migrate: the migrate service migrates"
    assert the_invocation(invocations, "worker").path == ("placement", "worker")
    assert the_invocation(invocations, "migrate").path == ("placement", "db", "upgrade")
    for name in ("api", "worker"):
        assert dependencies(services[name]).get("migrate") == "service_completed_successfully", name
    assert dependencies(services["migrate"]) == {"postgres": "service_healthy", "redis": "service_healthy"}
    assert str(services["migrate"].get("restart", "no")) == "no", "migrate is one-shot"


def test_api_healthcheck_asks_for_readiness_on_the_port_it_serves(
    services: dict[str, Service], invocations: list[Invocation]
) -> None:
    port = the_invocation(invocations, "api").parse().params["port"]
    test = services["api"]["healthcheck"]["test"]
    probe = test if isinstance(test, str) else " ".join(str(word) for word in test)
    urls = re.findall(r"https?://[^\s'\"]+", probe)
    assert len(urls) == 1, f"api healthcheck should ask one URL: {probe!r}"
    url = urlsplit(urls[0])
    assert url.hostname in {"127.0.0.1", "localhost"}
    assert url.port == port, f"api healthcheck asks port {url.port}, api serves {port}"
    assert url.path == "/health/ready"


def test_api_publishes_the_port_it_serves_on_all_interfaces(
    services: dict[str, Service], invocations: list[Invocation]
) -> None:
    params = the_invocation(invocations, "api").parse().params
    assert params["host"] in {"0.0.0.0", "::"}, "api must listen beyond the container's loopback"
    targets = {
        int(port["target"]) if isinstance(port, dict) else int(str(port).rsplit(":", 1)[-1].split("/")[0])
        for port in services["api"].get("ports") or []
    }
    assert params["port"] in targets, f"api serves {params['port']} but publishes {targets}"


def test_the_install_the_app_services_run_holds_every_package_the_project_ships(
    services: dict[str, Service],
) -> None:
    """The migrate service copies the source into the shared volume and installs it from there: a
    top-level package left out of the copy installs nothing, and the api and worker fail to import."""
    project = tomllib.loads((COMPOSE_FILE.parent / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*.") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    script = services["migrate"]["command"][-1]
    copied = {
        PurePosixPath(word).name
        for words in shell_commands(script)
        if words[0] == "cp"
        for word in words[1:-1]
        if word.startswith("/app/")
    }
    assert packages <= copied, f"the migrate service does not copy {sorted(packages - copied)}"
