"""The embeddable API: `meshes_emulator.running()` with `with`, `async with`, the unittest
mixin, and the typed door the fixture uses."""

from __future__ import annotations

import asyncio
import io
import unittest

import httpx
import pytest

import meshes_emulator
from meshes_emulator.embedded import StartupError


def test_running_gives_the_fixture_handle_and_toolkit() -> None:
    with meshes_emulator.running(seed=3) as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.emulator is not None and emulator.emulator.ids.seed == 3
        with emulator.client() as api:
            assert api.get("/workspaces").json()["records"][0]["id"] == emulator.workspace_id
        before = emulator.now()
        emulator.advance(5)
        assert emulator.now() > before == "2026-01-01T00:00:00.000Z"
        emulator.reset()
        assert emulator.now() == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(emulator.url + "/_emulator/health")


def test_server_errors_fail_check_with_the_exception_chained(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshes_emulator.services import workspaces

    def explode(*args: object) -> None:
        raise RuntimeError("kaboom")

    with meshes_emulator.running() as emulator:
        monkeypatch.setattr(workspaces, "list_page", explode)
        with emulator.client() as api:
            assert api.get("/workspaces").status_code == 500
        with pytest.raises(AssertionError, match="GET /api/v1/workspaces: RuntimeError") as caught:
            emulator.check()
        assert isinstance(caught.value.__cause__, RuntimeError)
        assert "in explode" in str(caught.value)  # the server's traceback, as text too
        emulator.reset()
        emulator.check()  # a reset forgets them


def test_async_with() -> None:
    async def main() -> list[str]:
        async with meshes_emulator.running() as emulator:
            async with httpx.AsyncClient(base_url=emulator.api_url,
                                         headers={"Authorization": f"Bearer {emulator.token()}"}) as api:
                response = await api.get("/workspaces")
            return [w["name"] for w in response.json()["records"]]

    assert asyncio.run(main()) == ["Default Workspace"]


def test_start_up_failure_is_chained(tmp_path: object) -> None:
    with pytest.raises(StartupError) as caught:
        meshes_emulator.running(fixtures=["no-such-seed-file.yaml"]).start()
    assert "no-such-seed-file.yaml" in str(caught.value.__cause__)


class _Signup(meshes_emulator.MeshesTestCase, unittest.TestCase):
    __test__ = False  # run by the test below, through unittest's own runner
    meshes_settings = {"seed": 9}
    names: list[list[str]] = []

    def _names(self) -> list[str]:
        with self.emulator.client() as api:
            return [w["name"] for w in api.get("/workspaces").json()["records"]]

    def test_a(self) -> None:
        self.emulator.create_workspace("Shop")
        self.names.append(self._names())

    def test_b(self) -> None:
        self.names.append(self._names())
        assert self.emulator.emulator is not None and self.emulator.emulator.ids.seed == 9


def test_unittest_mixin_resets_before_each_test() -> None:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(_Signup)
    result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    assert result.wasSuccessful(), result.errors + result.failures
    assert _Signup.names == [["Shop", "Default Workspace"], ["Default Workspace"]]
