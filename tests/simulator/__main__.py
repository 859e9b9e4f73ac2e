"""Run the simulator until SIGINT or SIGTERM: `python -m tests.simulator`.

Prints the connection details as LEM_URL=..., LEM_API_TOKEN=...,
LEM_PROJECT_ID=... and LEM_CA_PATH=... lines (the collection's environment
variables); `--env-file` writes them as a JSON object once the server
listens, so a test can wait for that file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .server import Simulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulator", description="Run a simulated Litmus Edge Manager."
    )
    parser.add_argument("--seed", default="demo", help="fleet seed; 'demo' = the API reference's devices (default)")
    parser.add_argument("--device-count", type=int, default=3, help="devices generated for other seeds")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    parser.add_argument("--task-step", type=float, default=1.0, help="seconds per deployment phase (default 1)")
    parser.add_argument("--state-dir", type=Path, help="keep CA, state and objects here across restarts")
    parser.add_argument("--env-file", type=Path, help="write the connection details here as JSON")
    parser.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    parser.add_argument(
        "--discard-uploads",
        action="store_true",
        help="read and count the bytes of each storage PUT, keep none (for benchmarks)",
    )
    return parser.parse_args(argv)


def _environment(simulator: Simulator) -> dict[str, str]:
    return {
        "LEM_URL": simulator.url,
        "LEM_API_TOKEN": simulator.token,
        "LEM_PROJECT_ID": simulator.project_id,
        "LEM_CA_PATH": simulator.ca_path or "",
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # Written whole and renamed into place: a reader never sees half a file.
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    simulator = Simulator(
        seed=args.seed,
        device_count=args.device_count,
        tls=not args.http,
        host=args.host,
        port=args.port,
        state_dir=args.state_dir,
        task_step=args.task_step,
        keep_uploads=not args.discard_uploads,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    simulator.start()
    try:
        environment = _environment(simulator)
        for name, value in environment.items():
            print(f"{name}={value}")
        sys.stdout.flush()
        if args.env_file is not None:
            _write_json(args.env_file, environment)
        stop.wait()
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
