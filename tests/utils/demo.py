"""`make demo`: roll a model out to the LEM simulator with the collection as users install it.

Builds the collection, installs the tarball into a temporary collections path,
starts the simulator (seed "demo", its own CA), then runs, with the LEM_*
environment variables an AWX credential would set:

1. playbooks/rollout.yml in check mode (the plan),
2. playbooks/rollout.yml for real, a canary first, then the rest,
3. playbooks/rollout.yml again (nothing to do),
4. playbooks/report.yml (the models per device),

and stops the simulator. Exit status: non-zero when a step did not do what it should.
"""

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.simulator import Simulator  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent
# A hostname, a pretty name, a device without hostname by its pretty name, and by id one of two devices sharing a hostname.
TARGETS = ["litmus-edge-94c6911b9c77", "VM", "Line 4 sensor", "5p0d3f7h1j9l2n4q6s8u0w2y4"]


def step(title):
    print("\n=== %s ===" % title, flush=True)


def run(command, env=None, expect=0):
    print("$ " + " ".join(command), flush=True)
    done = subprocess.run(command, env=env, cwd=str(ROOT), check=False)
    if done.returncode != expect:
        raise SystemExit("demo: '%s' exited %d, expected %d" % (" ".join(command), done.returncode, expect))


def install_collection(workdir):
    step("Build the collection and install the tarball")
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(workdir), str(ROOT)])
    tarball = next(workdir.glob("litmus-lem-*.tar.gz"))
    collections = workdir / "collections"
    run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "--collections-path", str(collections), str(tarball)])
    return collections


def model_file(workdir):
    path = workdir / "motionModel.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("motionModel/saved_model.pb", os.urandom(256 * 1024))
        archive.writestr("motionModel/labels.txt", "still\nmotion\n")
    return path


def main():
    with tempfile.TemporaryDirectory(prefix="litmus-lem-demo-") as scratch:
        workdir = Path(scratch)
        collections = install_collection(workdir)
        model = model_file(workdir)
        with Simulator(seed="demo", task_step=1.0) as sim:
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                       LEM_URL=sim.url, LEM_API_TOKEN=sim.token, LEM_PROJECT_ID=sim.project_id, LEM_CA_PATH=sim.ca_path,
                       PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
            step("LEM simulator at %s (project %s, CA %s)" % (sim.url, sim.project_id, sim.ca_path))
            playbook = [str(BIN / "ansible-playbook"), "litmus.lem.rollout",
                        "-e", "model_rollout_src=%s" % model,
                        "-e", '{"model_rollout_devices": %s, "model_rollout_batches": [1, "100%%"]}' % str(TARGETS).replace("'", '"'),
                        "-e", "model_rollout_description='demo rollout'"]
            step("1. What would change (check mode)")
            run(playbook + ["--check"], env)
            step("2. Roll out: a canary, then the rest")
            run(playbook, env)
            step("3. Run again: nothing to do")
            run(playbook, env)
            step("4. Report")
            run([str(BIN / "ansible-playbook"), "litmus.lem.report"], env)
            deployed = [device["hostname"] or device["deviceId"] for device in sim.state()["devices"]
                        if any(model_["name"] == "motionModel" for model_ in device["models"])]
            print("\ndemo: motionModel is on %d device(s): %s" % (len(deployed), ", ".join(deployed)))
            # the offline device held motionModel before the demo and keeps it
            if len(deployed) != len(TARGETS) + 1:
                raise SystemExit("demo: expected motionModel on %d devices" % (len(TARGETS) + 1))


if __name__ == "__main__":
    main()
