"""The README's "Install into your project", as a new user follows it: build the sdist and the
wheel, check what they hold, install the wheel into a fresh virtual environment (the normal
package index supplies the dependencies) and run a user's test file against the plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USER_TEST = '''
import pytest

from meshes_emulator.webhooks import verify_signature


def test_signup_is_accepted(meshes_server):
    with meshes_server.ingest_client() as client:
        response = client.post("/events", json={"event": "user.signup",
                                                "payload": {"email": "ada@example.com"}})
    assert response.status_code == 201
    meshes_server.assert_requested("POST", "/api/v1/events", status=201, count=1)


def test_webhook_is_signed(meshes_server, meshes_webhook_receiver):
    receiver = meshes_webhook_receiver
    with meshes_server.client() as api:
        hook = api.post("/connections", json={
            "workspace": meshes_server.workspace_id, "type": "webhook", "name": "Hook",
            "metadata": receiver.connection_metadata()}).json()["connection"]
        api.post("/rules", json={"workspace": meshes_server.workspace_id, "connection": hook["id"],
                                 "event": "user.signup", "metadata": {"action": "send_webhook"}})
    with meshes_server.ingest_client() as client:
        client.post("/events", json={"event": "user.signup", "payload": {"email": "a@b.c"}})
    meshes_server.settle()
    [delivery] = receiver.deliveries
    assert verify_signature(delivery.body, delivery.header("X-Meshes-Signature"), receiver.secret)


@pytest.mark.meshes(fixture="demo")
def test_the_demo_seed_ships_with_the_package(meshes_server):
    names = [w["name"] for w in meshes_server.admin("GET", "/credentials")["organizations"][0]["workspaces"]]
    assert "Demo" in names


def test_pytest_rewrites_the_plugin_but_imports_the_emulator_as_it_is(meshes_server):
    import sys

    def loader(name):
        return type(sys.modules[name].__loader__).__name__

    assert loader("pytest_meshes.fixtures") == "AssertionRewritingHook"
    assert loader("meshes_emulator.app") != "AssertionRewritingHook"
'''


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=cwd,
                            timeout=900)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("user") / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "build")
    return venv


@pytest.fixture(scope="module")
def dist(user_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's wheel command (`pip wheel --no-deps -w dist .`) and `python -m build
    --sdist`, run in a copy of the project's files (no build output lands in the clone)."""
    source = tmp_path_factory.mktemp("source")
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT).splitlines()
    for name in files:
        path = ROOT / name
        if path.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name, follow_symlinks=False)
    out = tmp_path_factory.mktemp("dist")
    python = user_venv / "bin" / "python"
    run(python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, ".", cwd=source)
    run(python, "-m", "build", "--sdist", "--outdir", out, source)
    return out


def test_the_wheel_holds_what_the_cli_and_plugin_use(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    for needed in ("meshes_emulator/fixtures/demo.yaml", "meshes_emulator/web/static/app.js",
                   "meshes_emulator/openapi/emulator.yaml", "meshes_emulator/catalog/fields.json",
                   "meshes_emulator/py.typed", "pytest_meshes/py.typed",
                   "pytest_meshes/webhooks.py", "meshes_emulator/webhooks.py"):
        assert needed in names, needed
    assert "License: MIT" in meta or "License-Expression: MIT" in meta
    assert "Project-URL:" in meta
    assert any(n.endswith("LICENSE") for n in names)
    assert "meshes = pytest_meshes.plugin" in entry and "meshes-emulator = " in entry
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_the_sdist_holds_the_sources_docs_and_license(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "docs/fixtures.md",
                   "docs/testing.md", "meshes_emulator/fixtures/demo.yaml"):
        assert needed in names, needed


def test_a_users_project_runs_its_tests_against_the_installed_wheel(
        dist: Path, user_venv: Path, tmp_path: Path) -> None:
    [wheel] = dist.glob("*.whl")
    run(user_venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheel}", "pytest")
    project = tmp_path / "my-app"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_meshes.py").write_text(USER_TEST)
    output = run(user_venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests", cwd=project)
    assert "4 passed" in output
    help_text = run(user_venv / "bin" / "meshes-emulator", "serve", "-h", cwd=project)
    assert "MESHES_EMULATOR_PORT" in help_text and "docs/" not in help_text
