"""`Simulator`: a LEM on a loopback port, run in a background thread.

The server has its own event loop in its own thread, so tests drive it with
blocking clients (requests, Ansible) from the main thread while calling the
control methods below, which are thread-safe.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from .app import build_app
from .core import FleetSpec, SimulatorCore
from .settings import Settings
from .tls import ensure_tls_files

# In-flight requests (a `delay` fault, a long upload) get this long to end at stop.
_SHUTDOWN_GRACE = 1.0
# How much of a request body is read ahead of its handler (aiohttp's default is
# 64 KiB): enough for the socket to keep flowing while an upload's previous
# batch is written and hashed, without pausing and resuming the transport for
# every few TLS records.
_READ_AHEAD = 4 << 20


class Simulator:
    """A simulated Litmus Edge Manager over HTTPS on loopback.

    Fleet (used when no saved state exists): `devices`, a list of
    `{deviceId, hostname, prettyName, online, models, behaviour}`, or else
    `seed` ("demo": the API reference's devices and a few more; anything
    else: `device_count` generated devices).

    `settings` are any of `Settings`' fields (task_step, history, auth_basic,
    auth_header, presign_host, token, project_id, max_page_size...).

    With `state_dir` the CA, settings, state and stored objects are kept
    there: a simulator started again on it carries on, and settings passed
    again override the saved ones. Without it, each start is fresh and a
    temporary directory is removed at stop.

    With `keep_uploads=False` a storage PUT is read and counted but its bytes
    are not kept (the benchmarks' setting): files get their size and ETag,
    and `state()` shows their sha256 as None (`stage_file` keeps bytes still).
    """

    def __init__(
        self,
        seed: str = "test",
        devices: list[dict[str, Any]] | None = None,
        device_count: int = 3,
        *,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | Path | None = None,
        keep_uploads: bool = True,
        **settings: Any,
    ) -> None:
        Settings().updated(**settings)  # fail here, not in start(), on a bad setting
        self._fleet = FleetSpec(seed=seed, devices=devices, device_count=device_count)
        self._explicit_settings = settings
        self._tls = tls
        self.host = host
        self.port = port
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._keep_uploads = keep_uploads
        self._directory: Path | None = None
        self._core: SimulatorCore | None = None
        self._ca_path: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------

    def start(self) -> Simulator:
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        # Bound first, in the caller's thread, so that a busy port fails here.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        # Later starts reuse the port, so clients' URLs stay valid.
        self.port = sock.getsockname()[1]
        directory = self._state_dir or Path(tempfile.mkdtemp(prefix="lem-simulator-"))
        try:
            self._launch(sock, directory)
        except BaseException:
            sock.close()
            if self._state_dir is None:
                shutil.rmtree(directory, ignore_errors=True)
            self._core = None
            raise
        return self

    def _launch(self, sock: socket.socket, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ssl_context = None
        if self._tls:
            tls_files = ensure_tls_files(directory / "tls")
            ssl_context = tls_files.server_context()
            self._ca_path = tls_files.ca_path
        self._core = SimulatorCore(directory, self._fleet, self._explicit_settings, self._keep_uploads)
        self._directory = directory
        app = build_app(self._core, self.info)

        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_GRACE, read_bufsize=_READ_AHEAD)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock, ssl_context=ssl_context).start())
        except BaseException:
            loop.close()
            raise
        self._loop = loop
        self._thread = threading.Thread(target=self._serve, args=(loop, runner), name="lem-simulator", daemon=True)
        self._thread.start()

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, runner: web.AppRunner) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
        finally:
            loop.close()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = self._loop = self._core = None
        if self._state_dir is None and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._directory = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- connection details -----------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. https://127.0.0.1:PORT (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}"

    @property
    def ca_path(self) -> str | None:
        """PEM of the CA that signed the server certificate (None with tls=False)."""
        return str(self._ca_path) if self._tls and self._ca_path else None

    @property
    def token(self) -> str:
        return self._settings().token

    @property
    def readonly_token(self) -> str:
        return self._settings().readonly_token

    @property
    def restricted_token(self) -> str:
        return self._settings().restricted_token

    @property
    def project_id(self) -> str:
        return self._settings().project_id

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "token": self.token,
            "readonly_token": self.readonly_token,
            "restricted_token": self.restricted_token,
            "project_id": self.project_id,
            "ca_path": self.ca_path,
        }

    def _settings(self) -> Settings:
        if self._core is not None:
            return self._core.settings
        return Settings().updated(**self._explicit_settings)

    # -- control ----------------------------------------------------------

    def reset(self, **settings: Any) -> dict[str, Any]:
        """Fresh fleet, files, tasks, faults, log and settings (the ones
        given at construction, then `settings`, which may also hold seed,
        devices, device_count). Returns state()."""
        self._running().reset(**settings)
        return self.state()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings, keep the state. Returns all settings."""
        return self._running().configure(**settings)

    def add_fault(self, endpoint: str, action: str, times: int | None = None, **params: Any) -> dict[str, Any]:
        """Add a fault rule (see README.md); `times` None means every time."""
        return self._running().add_fault({"endpoint": endpoint, "action": action, "times": times, **params})

    def faults(self) -> list[dict[str, Any]]:
        """The rules, each with its `hits` so far."""
        return self._running().fault_rules()

    def clear_faults(self) -> None:
        self._running().clear_faults()

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        return self._running().requests(endpoint)

    def clear_requests(self) -> None:
        self._running().clear_requests()

    def set_device(
        self,
        device: str,
        online: bool | None = None,
        behaviour: str | None = None,
        fail_msg: str | None = None,
        status: str | None = None,
        models: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change a device (by id or unique hostname); None leaves a field as it is."""
        return self._running().set_device(
            device, online=online, behaviour=behaviour, fail_msg=fail_msg, status=status, models=models
        )

    def stage_file(self, name: str, content: bytes = b"", description: str = "") -> dict[str, Any]:
        """As if `content` had been uploaded and registered under `name`."""
        return self._running().stage_file(name, content, description)

    def state(self) -> dict[str, Any]:
        return self._running().snapshot()

    def _running(self) -> SimulatorCore:
        if self._core is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._core
