"""The pytest plugin, exercised the way users run it: pytester in a subprocess."""

from __future__ import annotations

import importlib.util

import pytest

from tests.helpers import run_pytester

pytest_plugins = ["pytester"]

# A test during which the server raises: GET /workspaces answers 500.
CRASHING_TEST = """
def test_crash(meshes_server, monkeypatch):
    from meshes_emulator.services import workspaces

    def explode_on_the_server(*args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(workspaces, "list_page", explode_on_the_server)
    with meshes_server.client() as client:
        assert client.get("/workspaces").status_code == 500
"""


def test_fixture_gives_a_working_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_workspaces(meshes_server):
            assert meshes_server.url.startswith("http://127.0.0.1:")
            assert meshes_server.api_url == meshes_server.url + "/api/v1"
            with meshes_server.client() as client:
                body = client.get("/workspaces").json()
            assert body["records"][0]["id"] == meshes_server.workspace_id
            assert set(meshes_server.env) >= {"MESHES_ORG_ID", "MESHES_ACCESS_KEY",
                                              "MESHES_SECRET_KEY", "MESHES_API_URL"}

        def test_token_is_a_machine_jwt(meshes_server):
            import jwt
            token = meshes_server.token()
            header = jwt.get_unverified_header(token)
            assert header == {"alg": "HS256", "typ": "JWT", "kid": meshes_server.access_key}
            bad = meshes_server.token(aud="nope")
            r = httpx.get(meshes_server.api_url + "/workspaces",
                          headers={"Authorization": "Bearer " + bad})
            assert r.status_code == 401
        """
    )
    result = run_pytester(pytester)
    result.assert_outcomes(passed=2)


def test_state_is_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("round", [1, 2])
        def test_create(meshes_server, round):
            ws_id, key = meshes_server.create_workspace("Only One")
            with meshes_server.client() as client:
                names = [w["name"] for w in client.get("/workspaces").json()["records"]]
            assert names == ["Only One", "Default Workspace"]
            assert key.startswith("mesh_pub_")
        """
    )
    run_pytester(pytester).assert_outcomes(passed=2)


def test_same_seed_gives_same_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        seen = []

        @pytest.mark.meshes(seed=42)
        @pytest.mark.parametrize("round", [1, 2])
        def test_ids(meshes_server, round):
            seen.append(meshes_server.create_workspace("Seeded"))
            if round == 2:
                assert seen[0] == seen[1]

        @pytest.mark.meshes(seed=43)
        def test_other_seed(meshes_server):
            assert meshes_server.create_workspace("Seeded") != seen[0]
        """
    )
    run_pytester(pytester).assert_outcomes(passed=3)


def test_server_side_exception_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CRASHING_TEST)
    result = run_pytester(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*server-side errors*", "*GET /api/v1/workspaces*kaboom*"])


def test_fixture_file_from_ini(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", seed="workspaces:\n  - name: From Ini\n    event_types: [user.signup]\n")
    pytester.makeini("[pytest]\nmeshes_fixture = seed.yaml\n")
    pytester.makepyfile(
        """
        def test_seeded(meshes_server):
            with meshes_server.client() as client:
                names = [w["name"] for w in client.get("/workspaces").json()["records"]]
            assert "From Ini" in names
        """
    )
    run_pytester(pytester).assert_outcomes(passed=1)


def test_marker_fixture_overrides(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", other="workspaces:\n  - name: From Marker\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.meshes(fixture="other.yaml")
        def test_marked(meshes_server):
            with meshes_server.client() as client:
                names = [w["name"] for w in client.get("/workspaces").json()["records"]]
            assert "From Marker" in names

        def test_unmarked(meshes_server):
            with meshes_server.client() as client:
                names = [w["name"] for w in client.get("/workspaces").json()["records"]]
            assert names == ["Default Workspace"]
        """
    )
    run_pytester(pytester).assert_outcomes(passed=2)


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(meshes_server):\n    pass\n")
    result = run_pytester(pytester, "-p", "no:meshes")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'meshes_server' not found*"])


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist missing")
def test_parallel_workers_each_get_their_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_isolated(meshes_server, n):
            meshes_server.create_workspace(f"Worker test {n}")
            with meshes_server.client() as client:
                records = client.get("/workspaces").json()["records"]
            assert [w["name"] for w in records] == [f"Worker test {n}", "Default Workspace"]
        """
    )
    result = run_pytester(pytester, "-n", "2")
    result.assert_outcomes(passed=6)


def test_server_traceback_is_in_the_failing_test_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CRASHING_TEST)
    result = run_pytester(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([  # the exception itself, chained, then its server traceback
        "*def explode_on_the_server(*args):", "*RuntimeError",
        "*The above exception was the direct cause of the following exception*",
        "E   *ServerSideError: the meshes emulator raised server-side errors:",
        "E*GET /api/v1/workspaces: RuntimeError('kaboom')", "E*server traceback:",
        "*meshes_emulator/api/workspaces.py*", "*in explode_on_the_server", "E*RuntimeError: kaboom"])


def test_meshes_settings_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def meshes_settings(meshes_settings):
            return {**meshes_settings, "seed": 5, "org_id": "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b"}
        """
    )
    pytester.makepyfile(
        """
        def test_settings(meshes_server):
            assert meshes_server.org_id == "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b"
            assert meshes_server.emulator.ids.seed == 5
        """
    )
    run_pytester(pytester).assert_outcomes(passed=1)


def test_start_up_failure_is_chained(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def meshes_settings(meshes_settings):
            return {**meshes_settings, "fixtures": ["missing-seed-file.yaml"]}
        """
    )
    pytester.makepyfile("def test_x(meshes_server):\n    pass\n")
    result = run_pytester(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*missing-seed-file.yaml*",
                                 "*The above exception was the direct cause*",
                                 "*StartupError: meshes emulator failed to start*"])


def test_emulator_starts_during_collection(pytester: pytest.Pytester) -> None:
    """A test that needs the emulator makes collection start it in the background: it is
    starting (or up) before any test runs; a session without such a test starts nothing."""
    pytester.makepyfile(
        test_a="""
        import threading

        def running():
            return [t.name for t in threading.enumerate() if t.name.startswith("meshes-emulator")]

        def test_first_without_fixture(request):
            wanted = any("meshes_server" in item.fixturenames for item in request.session.items)
            assert bool(running()) == wanted
        """,
        test_b="def test_second(meshes_server):\n    assert meshes_server.org_id\n",
    )
    run_pytester(pytester).assert_outcomes(passed=2)
    run_pytester(pytester, "test_a.py").assert_outcomes(passed=1)


def test_no_early_start_when_meshes_settings_is_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest, threading

        @pytest.fixture(scope="session")
        def meshes_settings(meshes_settings):
            return {**meshes_settings, "seed": 4}

        def pytest_runtest_setup(item):  # before the fixtures: nothing started yet
            assert not [t for t in threading.enumerate() if t.name.startswith("meshes-emulator")]
        """
    )
    pytester.makepyfile("def test_x(meshes_server):\n    assert meshes_server.emulator.ids.seed == 4\n")
    run_pytester(pytester).assert_outcomes(passed=1)
