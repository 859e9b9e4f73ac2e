"""Integration tests: the LEM simulator over real HTTPS, and ansible-playbook runs against it."""

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.simulator import Simulator

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE / "playbooks"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    """One simulator for the session; each test gets it reset (see `sim`)."""
    server = Simulator(seed="test", task_step=0.2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sim(simulator):
    simulator.reset()
    return simulator


@dataclass
class PlaybookRun:
    rc: int
    output: str
    results: list = field(default_factory=list)

    def task(self, name):
        """The result of the last task run with this name."""
        matches = [entry for entry in self.results if entry["task"] == name]
        assert matches, "no task named %r ran; tasks: %s\n%s" % (name, [e["task"] for e in self.results], self.output[-3000:])
        return matches[-1]["result"]

    def outcome(self, name):
        return [entry for entry in self.results if entry["task"] == name][-1]["outcome"]


def lem_environment(sim, **overrides):
    """The LEM_* variables the modules fall back to, for this simulator."""
    env = {
        "LEM_URL": sim.url,
        "LEM_API_TOKEN": sim.token,
        "LEM_PROJECT_ID": sim.project_id,
        "LEM_CA_PATH": sim.ca_path,
    }
    env.update(overrides)
    return env


def run_playbook(sim, playbook, tmp_path, extra_vars=None, check=False, diff=False, verbosity=0, env=None, lem=True,
                 inventory=None):
    """Run a playbook of tests/integration/playbooks (or a path) on localhost, or on the hosts of another
    inventory source; collect every task result."""
    results_file = tmp_path / ("results-%d.json" % len(list(tmp_path.glob("results-*.json"))))
    environment = dict(os.environ)
    for name in list(environment):
        if name.startswith("LEM_"):
            del environment[name]
    environment.update({
        "ANSIBLE_CALLBACKS_ENABLED": "results_json",
        "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "LEM_TEST_RESULTS": str(results_file),
        "SIM_URL": sim.url,
        "SIM_CA_PATH": sim.ca_path,
    })
    if lem:
        environment.update(lem_environment(sim))
    environment.update(env or {})
    path = Path(playbook) if os.path.isabs(str(playbook)) else PLAYBOOKS / playbook
    command = [ANSIBLE_PLAYBOOK, "-i", str(inventory or HERE / "inventory.yml"), str(path)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, cwd=str(HERE), check=False)
    results = json.loads(results_file.read_text()) if results_file.exists() else []
    output = done.stdout + done.stderr
    # Whatever the run was for: the simulator's token, plain or in its Basic form, is never printed.
    for secret in (sim.token, base64.b64encode(("%s:" % sim.token).encode()).decode()):
        if secret in output:
            pytest.fail("the API token (plain or as Basic auth) is in the output of %s" % path.name, pytrace=False)
    return PlaybookRun(done.returncode, output, results)


@pytest.fixture
def playbook(sim, tmp_path):
    """run_playbook bound to this test's simulator and temp dir."""
    def run(name, **kwargs):
        return run_playbook(sim, name, tmp_path, **kwargs)
    return run
