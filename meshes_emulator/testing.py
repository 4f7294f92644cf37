"""The emulator embedded in any Python program or test runner, not only pytest.

    import meshes_emulator

    with meshes_emulator.running(seed=7) as emulator:      # a server on a free port, in a thread
        with emulator.client() as api:                       # signs every request with a JWT
            api.post("/workspaces", json={"name": "Shop"})
        emulator.fail(status=503, first=2)                   # the toolkit of the pytest fixture
        emulator.advance(10)

`async with meshes_emulator.running() as emulator:` starts and stops it without blocking the
event loop. `MeshesTestCase` is a `unittest.TestCase` mixin: one emulator per class, reset
before each test, server-side errors fail the test. The pytest plugin is built on `Running`.
"""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from meshes_emulator.settings import Settings

if TYPE_CHECKING:
    from pytest_meshes.handle import MeshesServer


def settings_for_tests(base: Settings | None = None, **overrides: Any) -> Settings:
    """Settings as tests want them: a manual clock unless told otherwise; `fixtures` may be a
    list; any other `Settings` field by name."""
    if "fixtures" in overrides:
        overrides["fixtures"] = tuple(overrides["fixtures"] or ())
    return dataclasses.replace(base or Settings(clock="manual"), **overrides)


class Running:
    """One emulator in this process: `start()` returns the handle, `stop()` ends it.

    The database is in memory unless `db_path` names a file (a test's state lives one test:
    a file would only add a commit to disk to every reset).
    Usable as `with` and `async with`; `start_in_background()` starts it in a thread and
    `wait()` returns the handle (re-raising a start-up failure, chained).
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings_for_tests(settings, **overrides)
        self.handle: MeshesServer | None = None
        self._thread: Any = None
        self._starter: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stopped = False

    def start(self) -> MeshesServer:
        """Build the app, start its server thread, and return the handle on it; any failure
        is a `StartupError` with its cause chained."""
        from meshes_emulator.embedded import StartupError

        try:
            return self._start()
        except StartupError:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise StartupError(f"meshes emulator failed to start: {exc}") from exc

    def _start(self) -> MeshesServer:
        from meshes_emulator.app import create_app
        from meshes_emulator.embedded import Door, ServerThread
        from pytest_meshes.handle import MeshesServer

        app = create_app(self.settings)
        thread = self._thread = ServerThread(app)
        thread.start()
        emulator = app.state.emulator
        emulator.base_url = thread.url
        self.handle = MeshesServer(thread.url, app=app, door=Door(emulator, thread))
        return self.handle

    def start_in_background(self) -> None:
        """Start in a daemon thread; `wait()` collects the handle."""
        def run() -> None:
            try:
                self.start()
            except BaseException as exc:
                self._error = exc

        self._starter = threading.Thread(target=run, name="meshes-emulator-start", daemon=True)
        self._starter.start()

    def wait(self, timeout: float = 60.0) -> MeshesServer:
        """The handle once started (starting now if nobody did)."""
        if self._starter is None and self.handle is None:
            return self.start()
        if self._starter is not None:
            self._starter.join(timeout)
        if self._error is not None:
            raise self._error
        if self.handle is None:
            raise TimeoutError(f"the meshes emulator did not start within {timeout} s")
        return self.handle

    def stop(self) -> None:
        """Stop the server and close its database (idempotent)."""
        if self._starter is not None and self._starter is not threading.current_thread():
            self._starter.join()
        if self._stopped:
            return
        self._stopped = True
        if self.handle is not None:
            self.handle.close()
        if self._thread is not None:
            self._thread.stop()
            self._thread.app.state.emulator.store.close()

    def __enter__(self) -> MeshesServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> MeshesServer:
        import asyncio

        return await asyncio.to_thread(self.start)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)


def running(settings: Settings | None = None, **overrides: Any) -> Running:
    """An emulator for a `with` or `async with` block (see the module docstring)."""
    return Running(settings, **overrides)


class MeshesTestCase:
    """A `unittest.TestCase` mixin: `self.emulator`, reset before each test, checked after.

        class SignupTest(MeshesTestCase, unittest.TestCase):
            meshes_settings = {"seed": 7}

            def test_signup(self):
                with self.emulator.ingest_client() as ingest:
                    ...
    """

    meshes_settings: ClassVar[dict[str, Any]] = {}
    emulator: ClassVar[MeshesServer]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()  # type: ignore[misc]
        runner = Running(**cls.meshes_settings)
        cls.emulator = runner.start()
        cls.addClassCleanup(runner.stop)  # type: ignore[attr-defined]

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.emulator.reset()
        self.addCleanup(self.emulator.check)  # type: ignore[attr-defined]
