"""Start the LEM simulator in the background, or stop it: for molecule scenarios and shell use.

usage:
  simulator_ctl.py start ENV_FILE [simulator options...]   start it, wait until it listens, write
                                                           LEM_* and SIMULATOR_PID as JSON to ENV_FILE
  simulator_ctl.py stop ENV_FILE                           stop the simulator ENV_FILE names, remove the file

Run with the Python that has the simulator's libraries (the project's .venv).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30


def start(env_file, options):
    env_file = Path(env_file).resolve()
    listening = env_file.with_name(env_file.name + ".listening")
    for stale in (env_file, listening):
        if stale.exists():
            stale.unlink()
    log = open(env_file.with_name(env_file.name + ".log"), "wb")  # pylint: disable=consider-using-with
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "tests.simulator", "--env-file", str(listening)] + options,
        cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not listening.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the simulator did not start; see %s" % log.name)
        time.sleep(0.1)
    details = json.loads(listening.read_text())
    details["SIMULATOR_PID"] = process.pid
    env_file.write_text(json.dumps(details, indent=1) + "\n")
    listening.unlink()
    print(json.dumps(details))


def stop(env_file):
    env_file = Path(env_file)
    if not env_file.exists():
        print("no simulator recorded in %s" % env_file)
        return
    pid = json.loads(env_file.read_text()).get("SIMULATOR_PID")
    try:
        os.kill(int(pid), signal.SIGTERM)
    except (ProcessLookupError, TypeError, ValueError):
        pass
    env_file.unlink()
    print("stopped simulator %s" % pid)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("start", "stop"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "start":
        start(sys.argv[2], sys.argv[3:])
    else:
        stop(sys.argv[2])


if __name__ == "__main__":
    main()
