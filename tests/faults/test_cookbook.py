"""docs/testing.md runs as written: its Python files with pytest, its shell blocks with bash
against a real `meshes-emulator serve --clock manual` (skipped without curl and jq)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import serve

pytest_plugins = ["pytester"]

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", COOKBOOK.read_text(), re.S)


def is_pytest_file(block: str) -> bool:
    return re.fullmatch(r"# (conftest|test_\w+)\.py", block.splitlines()[0]) is not None


def test_every_python_block_is_a_named_file() -> None:
    names = [block.splitlines()[0] for block in blocks("python")]
    assert names[0] == "# conftest.py"
    assert all(re.fullmatch(r"# \w+\.py", name) for name in names), names
    assert len(set(names)) == len(names)


def test_python_recipes_pass(pytester: pytest.Pytester) -> None:
    expected = 0
    for block in filter(is_pytest_file, blocks("python")):
        name = block.splitlines()[0][2:]
        pytester.makepyfile(**{name[:-3]: block})
        expected += len(re.findall(r"^def test_", block, re.M))
    assert expected >= 6
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=expected)


def test_python_scripts_run(tmp_path: Path) -> None:
    """The blocks that are not pytest files (plain scripts, unittest) run with python."""
    scripts = [block for block in blocks("python") if not is_pytest_file(block)]
    assert len(scripts) >= 3
    for block in scripts:
        name = block.splitlines()[0][2:]
        (tmp_path / name).write_text(block)
        result = subprocess.run([sys.executable, name], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"
        if "unittest" in name:
            assert re.search(r"Ran [2-9] tests", result.stderr) and "OK" in result.stderr, result.stderr
        else:
            assert result.stdout.strip(), name


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None,
                    reason="the shell recipes need curl and jq")
def test_shell_recipes_pass(tmp_path: Path) -> None:
    script = "\n".join(blocks("bash"))
    assert script.count("expect ") >= 8
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHES_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # meshes-emulator
    with serve("--db", str(tmp_path / "cookbook.db"), "--clock", "manual", env=env) as info:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                                timeout=120, env={**env, "MESHES_URL": info["base_url"]})
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[3,"delivered","2026-01-01T00:00:03.000Z"]' in result.stdout
    assert "auth_failed HTTP 401" in result.stdout
