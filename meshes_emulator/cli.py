"""`meshes-emulator serve`: run the emulator on 127.0.0.1 with state in a SQLite file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import click
from click.decorators import FC

from meshes_emulator import __version__, logs
from meshes_emulator.settings import Settings

if TYPE_CHECKING:  # the app is imported when a command runs, not at start-up
    from meshes_emulator.context import Emulator

DEFAULT_DB = "meshes-emulator.db"
ENV_PREFIX = "MESHES_EMULATOR"  # every serve option: MESHES_EMULATOR_<OPTION>, e.g. _PORT
CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True}
# The credentials variables the official clients read (see Settings.credentials_from_env).
CREDENTIAL_VARIABLES = {"org_id": "MESHES_ORG_ID", "access_key": "MESHES_ACCESS_KEY",
                        "secret_key": "MESHES_SECRET_KEY"}


def option(*decls: str, **attrs: Any) -> Callable[[FC], FC]:
    """A `serve` option whose environment variable shows in --help (MESHES_EMULATOR_<NAME>)."""
    name = next(d for d in decls if d.startswith("--"))[2:].replace("-", "_").upper()
    attrs.setdefault("envvar", f"{ENV_PREFIX}_{name}")
    return click.option(*decls, show_envvar=True, **attrs)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="meshes-emulator")
def main() -> None:
    """A local emulator of the Meshes API (meshes.io).

    Start it with `meshes-emulator serve`; `meshes-emulator serve -h` lists every option.
    """


@main.command(context_settings={"auto_envvar_prefix": ENV_PREFIX})
@option("--host", default="127.0.0.1", help="address to bind")
@option("--port", default=8787, type=click.IntRange(0, 65535), help="port (0 picks a free one)")
@option("--db", "db_path", default=DEFAULT_DB,
        help="SQLite database file (':memory:' for a throwaway one)")
@option("--fixture", "fixtures", multiple=True, type=click.Path(),
        help="seed file (YAML or JSON) to load once per database, or 'demo' for the demo seed "
        "shipped with the package (repeatable)")
@option("--fixture-dir", "fixture_dirs", multiple=True,
        type=click.Path(file_okay=False, exists=True),
        help="a directory whose seed files POST /_emulator/reset may load (repeatable; "
        "otherwise reset loads the --fixture files only)")
@option("--seed", default=0, type=int, help="seed for ids and randomness")
@option("--clock", "clock_mode", default="system", type=click.Choice(["system", "manual"]),
        help="system time or a manual clock")
@option("--retry-delays", default=None,
        help="seconds between delivery attempts, e.g. '1,2,4' or '30s,2m,1h', or a name: "
        "short, realistic, none  [default: short = 1,2,4]")
@option("--fault", "faults", multiple=True,
        help="a delivery or API fault (repeatable; JSON, or compact such as "
        "'integration_type=hubspot,status=503,first=2' or 'api:method=POST,path=/events,"
        "status=429,times=3')")
@option("--json", "as_json", is_flag=True, help="print the start-up block as one JSON line")
@option("--admin-token", default=None,
        help="token the admin API and dashboard require ('auto' draws one); drawn "
        "automatically when --host is not a loopback address")
@option("--no-admin", is_flag=True, help="switch the admin API and the dashboard off")
@option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
        help="a Host name to answer besides localhost and IP addresses (repeatable; "
        "e.g. a container's service name; '*' for any)")
@option("--max-connections", type=click.IntRange(min=1), default=None,
        help="open connections served at once; more answer 503 (default: the file "
        "descriptor limit minus 128, at most 4096)")
@option("--strict", is_flag=True,
        help="refuse (400) what only an inferred check objects to, instead of warning "
        "(the leniency policy)")
@option("--import", "import_file", default=None, type=click.Path(dir_okay=False),
        help="start from an exported state (meshes-emulator export): it replaces the "
        "database's content")
@option("--export-on-exit", default=None, type=click.Path(dir_okay=False),
        help="write the state to FILE (YAML, the export format) when the emulator stops")
@option("--export-with-secrets", is_flag=True,
        help="with --export-on-exit: include secrets (machine key secrets, credentials)")
@option("--log-level", default="info", type=click.Choice(logs.LEVELS),
        help="info: one line per API request and per delivery attempt; debug: admin API "
        "requests too")
@option("--log-format", default="text", type=click.Choice(logs.FORMATS),
        help="text, or one JSON object per line")
@option("--quiet", "-q", is_flag=True, help="log warnings and errors only (no per-request lines)")
@option("--request-journal", default=1000, type=click.IntRange(min=0),
        help="requests kept for GET /_emulator/requests and the dashboard (0: off)")
@option("--allow-http-webhooks", "http_hosts", default="", metavar="HOST[,HOST]",
        help="hosts beyond loopback that webhook connections may reach over plain http, e.g. "
        "'app,api.internal' for Docker Compose (the body, signature and credentials then "
        "cross the network unencrypted)")
@option("--delivery-concurrency", default=64, type=click.IntRange(1, 4096),
        help="webhook deliveries in flight at once (system clock; 3/4 of them at most to one "
        "connection)")
def serve(
    host: str,
    port: int,
    db_path: str,
    fixtures: tuple[str, ...],
    seed: int,
    clock_mode: str,
    retry_delays: str | None,
    as_json: bool,
    admin_token: str | None,
    no_admin: bool,
    log_level: str = "info",
    log_format: str = "text",
    quiet: bool = False,
    request_journal: int = 1000,
    http_hosts: str = "",
    faults: tuple[str, ...] = (),
    allowed_hosts: tuple[str, ...] = (),
    fixture_dirs: tuple[str, ...] = (),
    max_connections: int | None = None,
    strict: bool = False,
    import_file: str | None = None,
    export_on_exit: str | None = None,
    export_with_secrets: bool = False,
    delivery_concurrency: int = 64,
) -> None:
    """Run the emulator until Ctrl-C.

    Every option can also come from its environment variable (shown with each option; a
    repeatable option takes several values separated by spaces). The credentials come from
    MESHES_ORG_ID, MESHES_ACCESS_KEY and MESHES_SECRET_KEY when set (on an existing database: that
    organization is used, created when absent; a new key pair is added to it), else the
    documented defaults. The start-up block shows the credentials in effect.
    """
    from meshes_emulator.exposure import admin_token_for

    if not db_path.strip():  # (SQLite would open a hidden temporary database)
        raise click.BadParameter("give a file path, or ':memory:' for a throwaway database",
                                 param_hint="--db")
    creds = _credentials()
    try:
        token = admin_token_for(host, admin_token, enabled=not no_admin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--admin-token") from None
    settings = Settings(db_path=db_path, seed=seed, clock=clock_mode, fixtures=fixtures,
                        org_id=creds["org_id"], access_key=creds["access_key"],
                        secret_key=creds["secret_key"], retry_delays=_delays(retry_delays),
                        base_url=f"http://{_url_host(host)}:{port}", admin_token=token,
                        admin_enabled=not no_admin, faults=_faults(faults),
                        allowed_hosts=allowed_hosts, fixture_dirs=fixture_dirs, strict=strict,
                        request_journal=request_journal,
                        allow_http_webhooks=_hosts(http_hosts),
                        delivery_concurrency=delivery_concurrency,
                        delivery_connection_limit=max(1, delivery_concurrency * 3 // 4))
    _check_port(host, port)
    if export_on_exit is not None:
        _check_export_target(export_on_exit)
    _check_database(db_path)
    lock = _lock_database(db_path)
    latest = _latest_instant(db_path) if clock_mode == "manual" else None
    app = _build_app(settings)
    interrupted = app.state.emulator.dispatcher.recovered  # (recorded by the start, before any import)
    if latest is not None:
        _resume_manual_clock(app.state.emulator, latest)
    if import_file is not None:
        _import_state(app.state.emulator, import_file)
    logs.configure(log_level, log_format, quiet)  # once everything is checked: the server starts
    if interrupted:
        logs.ROOT.warning("%d delivery attempt(s) were cut off when the emulator last stopped: "
                          "recorded as internal_error 'Attempt interrupted'; the retry "
                          "schedule decides what follows", interrupted)
    stopped_by = _run(app, host, port, as_json, max_connections)
    if export_on_exit is not None:
        _export_state(app.state.emulator, export_on_exit, export_with_secrets)
    _stopped(app.state.emulator, stopped_by, export_on_exit)
    app.state.emulator.store.close()  # the last connection: SQLite folds the WAL in, removes it
    if lock is not None:
        os.close(lock)  # (after the store: closing a descriptor drops the process's SQLite locks)


def _import_state(emulator: Emulator, path: str) -> None:
    """`serve --import FILE`: replace the state by an exported one (or stop with the problem)."""
    from meshes_emulator.services import export, fixtures

    try:
        data = fixtures.read_file(path)
        if not export.is_export(data):
            _fail(f"{path} is not an export (no 'format: {export.FORMAT}'); "
                  "use --fixture for a seed file")
        export.load(emulator, data, path)
    except fixtures.FixtureError as exc:
        _fail(str(exc))


def _check_export_target(path: str) -> None:
    """--export-on-exit: a file that cannot be written is said now, not after the session."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        _fail(f"--export-on-exit: cannot write {path}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        _fail(f"--export-on-exit: cannot write {path}: the directory {directory} is not writable")


def _export_state(emulator: Emulator, path: str, with_secrets: bool) -> None:
    """`--export-on-exit FILE`: the state when the emulator stopped."""
    from meshes_emulator.services import export

    try:
        export.write_file(path, export.dump_text(emulator.store, with_secrets=with_secrets,
                                                 clock=emulator.clock))
    except (OSError, sqlite3.Error) as exc:
        _fail(f"cannot export to {path}: {exc}")


@main.command("export")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              help="the SQLite database file to export (a running emulator may be using it)")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="write to FILE instead of standard output")
@click.option("--with-secrets", is_flag=True,
              help="include machine key secrets, connection credentials and launch tokens "
              "(left out or masked by default)")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML")
def export_command(db_path: str, out: str | None, with_secrets: bool, as_json: bool) -> None:
    """Write the whole state of a database as a seed file (docs/fixtures.md).

    Load it again with `serve --import FILE`; importing an export exports the same text.
    """
    from meshes_emulator.services import export
    from meshes_emulator.store import Store

    if not os.path.isfile(db_path):
        _fail(f"no database at {db_path!r}")
    _check_database(db_path, "copy it somewhere writable")  # (never adds tables to another's)
    try:
        store = Store(db_path)
        try:
            text = export.dump_text(store, with_secrets=with_secrets, as_json=as_json)
        finally:
            store.close()
    except sqlite3.Error as exc:
        _fail(f"cannot read database {db_path!r}: {exc}")
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        export.write_file(out, text)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")


class _ExecCommand(click.Command):
    """Everything before `--` goes to `serve` as it is; everything after is the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        split = args.index("--") if "--" in args else len(args)
        serve_args, command = args[:split], args[split + 1:]
        if "--help" in serve_args or "-h" in serve_args:
            return super().parse_args(ctx, ["--help"])
        if not command:
            raise click.UsageError("give the command to run after --, e.g. "
                                   "meshes-emulator exec --clock manual -- npm test", ctx)
        ctx.meta["exec"] = (serve_args, command)
        return super().parse_args(ctx, [])

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """The usage line shows the serve options and the command after `--`."""
        return ["[SERVE OPTIONS] -- COMMAND [ARGS]..."]


@main.command("exec", cls=_ExecCommand, context_settings={"help_option_names": ["--help", "-h"]})
@click.pass_context
def exec_command(ctx: click.Context) -> None:
    """Run COMMAND against a fresh emulator, then stop it.

    The emulator starts on a free port with the given `serve` options (`meshes-emulator serve -h`
    lists them; --db defaults to :memory:). COMMAND runs with MESHES_API_URL, MESHES_EVENTS_URL,
    MESHES_EMULATOR_URL, MESHES_ORG_ID, MESHES_ACCESS_KEY, MESHES_SECRET_KEY,
    MESHES_PUBLISHABLE_KEY, WORKSPACE_PUBLISHABLE_KEY and MESHES_WORKSPACE_ID set (and
    MESHES_EMULATOR_ADMIN_TOKEN when the emulator has an admin token). exec exits with COMMAND's
    exit code (128 + N for a signal N, 127 when COMMAND cannot start, 2 when the emulator cannot).
    """
    from meshes_emulator import cli_exec

    serve_args, command = ctx.meta["exec"]
    sys.exit(cli_exec.run(serve_args, command))


def _hosts(text: str) -> tuple[str, ...]:
    """--allow-http-webhooks: host names, no scheme, port or path."""
    hosts = tuple(h.strip().lower() for h in text.split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+|\[[0-9a-f:]+\]", host):
            raise click.BadParameter(f"{host!r} is not a host name (give names such as "
                                     "'app,api.internal', without scheme or port)",
                                     param_hint="--allow-http-webhooks")
    return hosts


def _credentials() -> dict[str, str | None]:
    """MESHES_ORG_ID / _ACCESS_KEY / _SECRET_KEY, each checked for the shape clients accept."""
    from meshes_emulator.services.orgs import credential_problem

    creds = Settings.credentials_from_env()
    for field, value in creds.items():
        problem = None if value is None else credential_problem(field, value)
        if problem is not None:
            _fail(f"{_variable(field)} {problem}; fix it or unset it to use the default")
    return creds


def _variable(field: str) -> str:
    """The environment variable a credential came from (MESHES_ORGANIZATION_ID is an alias)."""
    if field == "org_id" and not os.environ.get("MESHES_ORG_ID") and \
            os.environ.get("MESHES_ORGANIZATION_ID"):
        return "MESHES_ORGANIZATION_ID"
    return CREDENTIAL_VARIABLES[field]


def _delays(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        from meshes_emulator.engine.retry import RetryPolicy

        return tuple(RetryPolicy.parse(text).delays)
    except (ValueError, ImportError) as exc:
        raise click.BadParameter(str(exc), param_hint="--retry-delays") from None


def _faults(values: tuple[str, ...]) -> tuple[str, ...]:
    """Check every --fault now: a bad one stops the start-up with the problem named."""
    from meshes_emulator.engine.fault_specs import FaultSpecError, parse_cli

    for value in values:
        try:
            parse_cli(value)
        except FaultSpecError as exc:
            raise click.BadParameter(f"{value!r}: {exc}", param_hint="--fault") from None
    return values


def _build_app(settings: Settings) -> Any:
    from meshes_emulator.app import create_app
    from meshes_emulator.errors import ApiError
    from meshes_emulator.services.fixtures import FixtureError
    from meshes_emulator.services.orgs import CredentialsError

    try:
        return create_app(settings)
    except sqlite3.Error as exc:
        _fail(f"cannot open database {settings.db_path!r} (--db): {exc}")
    except CredentialsError as exc:
        _fail(f"{_variable(exc.field)} {exc}")
    except FixtureError as exc:
        _fail(f"--fixture: {exc}")
    except ApiError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot start: {exc}")


def _check_database(path: str, fix: str = "give another --db, or ':memory:'") -> None:
    """Refuse, before anything is written, a SQLite file of another program or a damaged one
    (the emulator would add its tables to it, or write ids and recovery into it)."""
    from meshes_emulator.store import filecheck

    where = filecheck.location_problem(path)
    if where is not None:
        _fail(f"cannot open database {path!r} (--db): {where}; {fix}")
    problem = filecheck.problem(path)
    if problem is None:
        return
    if problem.startswith("is damaged"):
        _fail(f"cannot open database {path!r} (--db): it {problem}; nothing was written to it: "
              "restore a copy, or give another --db")
    _fail(f"{path} {problem} (--db); nothing was written to it: give the emulator its own file "
          "(a new one is created)")


def _latest_instant(path: str) -> str | None:
    from meshes_emulator.store import filecheck

    return filecheck.latest_instant(path)


def _resume_manual_clock(emulator: Emulator, latest: str) -> None:
    """A manual clock restarted on an existing file goes on just after the latest instant the
    file records (it went back to its start: new events dated before the old ones)."""
    from datetime import timedelta

    from meshes_emulator.clock import ManualClock, parse_instant

    clock = emulator.clock
    try:
        resume = parse_instant(latest) + timedelta(milliseconds=1)
    except ValueError:
        return
    if isinstance(clock, ManualClock) and resume > clock.now():
        clock.set(resume)


def _lock_database(path: str) -> int | None:
    """Hold an exclusive lock on the database file while this emulator runs (None: not a file).

    A second `serve` on the same file would deliver the same attempts twice and draw the same
    ids; it stops with one line instead.
    """
    try:
        import fcntl
    except ImportError:  # (Windows: no lock)
        return None
    if path == ":memory:":
        return None
    try:  # an empty new file is what a fresh database starts from (store/db.py)
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None  # opening it for real reports the problem
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        _fail(f"{path} is in use by another meshes-emulator (serve or exec); stop that one, "
              "or give this one another --db")
    return fd


def _check_port(host: str, port: int) -> None:
    """One clear line instead of a traceback when the address is taken (or not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _fail(f"cannot listen on {host}:{port}: the port is already in use")
        _fail(f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port")
    finally:
        probe.close()


def _run(app: Any, host: str, port: int, as_json: bool,
         max_connections: int | None = None) -> str | None:
    """Serve until a signal; returns its name (None: the server stopped by itself)."""
    from meshes_emulator.serving import FastServer, config
    from meshes_emulator.wire_limits import ConnectionLimits

    emulator = app.state.emulator
    stopped_by: list[int] = []

    class Server(FastServer):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.should_exit or not self.servers:
                return
            bound = self.servers[0].sockets[0].getsockname()[1]
            emulator.base_url = f"http://{_url_host(host)}:{bound}"
            click.echo(_banner(emulator, as_json))
            sys.stdout.flush()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            """Keep the signals uvicorn re-raises once it stopped: SIGTERM would then end the
            process before the export on exit and the store's close (docker stop lost both)."""
            with super().capture_signals():
                try:
                    yield
                finally:
                    stopped_by.extend(self._captured_signals)
                    self._captured_signals.clear()

    limits = ConnectionLimits(**({"max_connections": max_connections} if max_connections else {}))
    server = Server(config(app, host=host, port=port, limits=limits))
    emulator.attach_server(server)  # group commit and the delivery worker read its load
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        _fail(f"cannot listen on {host}:{port}")
    return signal.Signals(stopped_by[0]).name if stopped_by else None


def _stopped(emulator: Emulator, by: str | None, export_on_exit: str | None) -> None:
    """The last line: why it stopped, what was cut off, where the state went."""
    from meshes_emulator.store import events as event_store

    cut = len(event_store.unfinished_attempts(emulator.store))
    parts = [f"stopped ({by})" if by else "stopped"]
    if cut:
        later = ("lost with the in-memory database" if emulator.settings.db_path == ":memory:"
                 else "the next start on this database records them as interrupted and retries "
                 "them")
        parts.append(f"{cut} delivery attempt(s) in flight were cut off: {later}")
    if export_on_exit is not None:
        parts.append(f"state exported to {export_on_exit}")
    logs.ROOT.info("; ".join(parts))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _banner(emulator: Emulator, as_json: bool) -> str:
    from meshes_emulator.services import orgs

    organizations = orgs.credentials(emulator)  # the credentials in effect come first
    default = organizations[0]
    key = default["machine_keys"][0]
    info = {"base_url": emulator.base_url, "api_url": emulator.base_url + "/api/v1",
            "dashboard_url": emulator.base_url + "/", "db": emulator.settings.db_path,
            "seed": emulator.ids.seed, "clock": emulator.clock.mode,
            "org_id": default["org_id"], "access_key": key["access_key"],
            "secret_key": key["secret_key"], "workspaces": default["workspaces"],
            "organizations": organizations, **_admin_info(emulator)}
    if as_json:
        return json.dumps(info)
    lines = [
        f"meshes-emulator {__version__} listening on {emulator.base_url}",
        f"  API:        {info['api_url']}",
        f"  Dashboard:  {info['dashboard_url']}",
        f"  Database:   {info['db']}   seed {info['seed']}   clock {info['clock']}",
        "",
        f"  Organization: {default['org_id']}",
        f"  Access key:   {key['access_key']}",
        f"  Secret key:   {key['secret_key']}",
        "  Workspaces:",
    ]
    for ws in default["workspaces"]:
        lines.append(f"    {ws['id']}  {ws['name']}  publishable key {ws['publishable_key']}")
    lines += ["", "  # paste into your shell:",
              f"  export MESHES_API_URL={emulator.base_url}",
              f"  export MESHES_ORG_ID={default['org_id']}",
              f"  export MESHES_ACCESS_KEY={key['access_key']}",
              f"  export MESHES_SECRET_KEY={key['secret_key']}"]
    if default["workspaces"]:
        lines.append(f"  export MESHES_PUBLISHABLE_KEY={default['workspaces'][0]['publishable_key']}")
    hosts = emulator.settings.allow_http_webhooks
    if hosts:
        lines += ["", f"  Plain-http webhooks allowed to: {', '.join(hosts)} (--allow-http-webhooks)"]
    return "\n".join(lines + _admin_lines(emulator, key["secret_key"]))


def _admin_info(emulator: Emulator) -> dict[str, Any]:
    settings = emulator.settings
    mode = "off" if not settings.admin_enabled else "token" if settings.admin_token else "open"
    return {"admin": mode, "admin_token": settings.admin_token}


def _admin_lines(emulator: Emulator, secret_key: str) -> list[str]:
    """The admin token (exposed emulators) or the --no-admin notice, after the export block."""
    settings = emulator.settings
    if not settings.admin_enabled:
        return ["", "  Admin API and dashboard: off (--no-admin)"]
    if settings.admin_token is None:
        return []
    from meshes_emulator import defaults

    token = settings.admin_token
    lines = ["", f"  Admin token:  {token}",
             "  (the admin API and the dashboard require it: header X-Meshes-Emulator-Token,",
             f"   or open {emulator.base_url}/?admin_token={token})",
             f"  export MESHES_EMULATOR_ADMIN_TOKEN={token}"]
    if secret_key == defaults.DEFAULT_SECRET_KEY:
        lines += ["  Note: the machine key above is the public default; set MESHES_ORG_ID,",
                  "  MESHES_ACCESS_KEY and MESHES_SECRET_KEY to your own on a shared host."]
    return lines


def _fail(message: str) -> NoReturn:
    """One line on stderr (a YAML parser's report spans lines, with a caret line), exit 2."""
    lines = [line.strip() for line in message.splitlines()]
    message = " ".join(line for line in lines if line and line != "^")
    click.echo(f"meshes-emulator: {message}", err=True)
    sys.exit(2)
