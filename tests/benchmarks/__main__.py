"""The benchmark suite: `python -m tests.benchmarks` (make bench).

Against the LEM simulator on loopback, in a process of its own, each figure the median of --repeat runs:

1. uploads of generated files (64 MiB, 512 MiB, 2 GiB): lem_model_file, the hand-written ansible.builtin.uri
   playbook (playbooks/upload_uri.yml) and `curl -T` to a fresh pre-signed URL; and the module's upload code
   alone (send_path.py), with and without the sha256 folded in, to show what the hash and Ansible add;
2. the idempotent rerun of each on the converged file;
3. the model_rollout role to 10, 100 and 1000 devices, and its rerun;
4. the overhead of the role's rerun next to a bare `ansible localhost -m ansible.builtin.ping`.

Prints the tables, and writes them into docs/performance.md (between its generated-section markers), the raw
figures to docs/performance-results.json and the plot to docs/performance-upload.png.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import fleet, report, upload
from .harness import ROOT, Ansible, SimulatorProcess, machine, median, model_file, scratch_space

DOCS = ROOT / "docs"


def run(args, progress=print):
    results = {"machine": machine(), "settings": {"sizes_mib": args.sizes, "repeat": args.repeat, "fleet": args.fleet,
                                                  "task_step": fleet.TASK_STEP, "wait_sleep": fleet.WAIT_SLEEP}}
    started = time.monotonic()
    with scratch_space(args.workdir) as (scratch, state):
        results["settings"]["state_on_tmpfs"] = str(state).startswith("/dev/shm/")
        with SimulatorProcess(scratch, state_dir=state) as simulator:
            results["settings"]["uploads_kept"] = simulator.keep_uploads
            ansible = Ansible(scratch, simulator)
            progress("baselines")
            results["startup"] = {
                "empty_playbook": median([ansible.playbook("empty.yml").wall for _run in range(args.repeat)]),
                "one_task_playbook": median([ansible.playbook("one_task.yml").wall for _run in range(args.repeat)]),
                "ping": median([ansible.ping().wall for _run in range(args.repeat)]),
            }
            progress("  bare ansible-playbook %.2f s, one ping task %.2f s, ansible -m ping %.2f s" % (
                results["startup"]["empty_playbook"], results["startup"]["one_task_playbook"], results["startup"]["ping"]))
            results["uploads"] = []
            for mib in args.sizes:
                progress("upload %d MiB" % mib)
                path = model_file(scratch, mib)
                firsts, reruns = upload.measure_size(ansible, simulator, path, args.repeat, progress=progress)
                results["uploads"].append({
                    "mib": mib,
                    "first": {way: upload.summary(samples) for way, samples in firsts.items()},
                    "rerun": {way: upload.summary(samples) for way, samples in reruns.items()},
                })
                path.unlink()
        if args.fleet:
            with SimulatorProcess(scratch, task_step=fleet.TASK_STEP, state_dir=state) as simulator:
                ansible = Ansible(scratch, simulator)
                progress("fleet")
                model = model_file(scratch, 1).rename(scratch / "fleetModel.zip")
                results["fleet"] = fleet.measure(ansible, simulator, args.fleet, args.repeat, model, progress=progress)
    results["machine"]["load_after"] = [round(value, 2) for value in os.getloadavg()]
    results["machine"]["duration_s"] = round(time.monotonic() - started)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="64,512,2048", help="upload sizes in MiB (default 64,512,2048)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement; the median is reported (default 5)")
    parser.add_argument("--fleet", default="10,100,1000", help="fleet sizes (default 10,100,1000; empty: none)")
    parser.add_argument("--workdir", help="scratch directory for the generated files (default: a temporary directory)")
    parser.add_argument("--no-report", action="store_true", help="print only; leave docs/ as it is")
    parser.add_argument("--from-results", help="rewrite the report from a results JSON file instead of measuring")
    args = parser.parse_args(argv)
    args.sizes = [int(value) for value in args.sizes.split(",") if value]
    args.fleet = [int(value) for value in args.fleet.split(",") if value]
    if args.from_results:
        results = json.loads(Path(args.from_results).read_text())
    else:
        results = run(args)
    sections = report.sections(results)
    for text in sections.values():
        print("\n" + text)
    if not args.no_report:
        (DOCS / "performance-results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        report.write_markdown(DOCS / "performance.md", sections)
        report.plot(results, DOCS / "performance-upload.png")
        print("\nwrote docs/performance.md, docs/performance-results.json, docs/performance-upload.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
