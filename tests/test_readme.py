"""The README's pytest example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    text = README.read_text()
    section = text.split("## Testing with pytest", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    pytester.makepyfile(test_readme_example=example.group(1))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_readme_quick_start_is_two_commands() -> None:
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert [len(b.strip().splitlines()) for b in blocks] == [1, 1]
    assert "meshes-emulator serve" in blocks[0]
    ci = (README.parent / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci
