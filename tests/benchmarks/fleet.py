"""Fleet benchmark: the model_rollout role with `devices: [all]` on a simulated fleet, then its rerun.

    python -m tests.benchmarks.fleet [--devices 1000] [--repeat 1]

Prints the wall time and the requests by kind of the rollout and of the rerun on the converged fleet (which
makes no POST). The suite (python -m tests.benchmarks) runs it for 10, 100 and 1000 devices.
"""

import argparse
import sys

from .harness import Ansible, BenchError, SimulatorProcess, median, model_file, scratch_space, summarize

# Seconds a simulated deployment spends in each of PENDING and IN_PROGRESS, and between two polls.
TASK_STEP = 1.0
WAIT_SLEEP = 1.0


def rollout(ansible, simulator, devices, model):
    """A rollout to a fresh fleet of `devices` devices, then the rerun; (rollout, rerun) figures."""
    simulator.reset(device_count=devices)
    figures = []
    for _run in ("rollout", "rerun"):
        simulator.clear_requests()
        run = ansible.playbook("rollout.yml", {"bench_src": str(model), "bench_wait_sleep": WAIT_SLEEP})
        log = summarize(simulator.requests_log())
        figures.append({"devices": devices, "wall": run.wall, "requests": log["requests"], "posts": log["posts"],
                        "mutating": log["mutating"], "by_kind": log["by_kind"]})
    state = simulator.control("GET", "state")
    tasks = state["tasks"]
    installed = sum(1 for device in state["devices"] if any(item["name"] == model.stem for item in device["models"]))
    if len(tasks) != 1 or len(tasks[0]["subtasks"]) != devices or installed != devices:
        raise BenchError("the rollout to %d devices made %d task(s) and installed the model on %d devices"
                         % (devices, len(tasks), installed))
    return figures


def measure(ansible, simulator, sizes, repeat, model, progress=print):
    results = []
    for devices in sizes:
        runs = []
        for number in range(repeat):
            first, again = rollout(ansible, simulator, devices, model)
            runs.append((first, again))
            progress("  %5d devices run %d: rollout %6.2f s, %4d requests; rerun %6.2f s, %4d requests, %d POST" % (
                devices, number + 1, first["wall"], first["requests"], again["wall"], again["requests"], again["posts"]))
        results.append({"devices": devices, "rollout": _median(run[0] for run in runs), "rerun": _median(run[1] for run in runs)})
    return results


def _median(samples):
    samples = list(samples)
    result = dict(samples[len(samples) // 2])
    result["wall"] = median([sample["wall"] for sample in samples])
    result["walls"] = [sample["wall"] for sample in samples]
    return result


def print_table(results, out=print):
    kinds = sorted(set(kind for result in results for phase in ("rollout", "rerun") for kind in result[phase]["by_kind"]))
    out("%-8s %-8s %8s %8s %6s  %s" % ("devices", "run", "wall s", "requests", "POSTs", "  ".join(kinds)))
    for result in results:
        for phase in ("rollout", "rerun"):
            figures = result[phase]
            counts = "  ".join("%*d" % (len(kind), figures["by_kind"].get(kind, 0)) for kind in kinds)
            out("%-8d %-8s %8.2f %8d %6d  %s" % (result["devices"], phase, figures["wall"], figures["requests"], figures["posts"], counts))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.fleet", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", help="scratch directory (default: a temporary directory)")
    args = parser.parse_args(argv)
    with scratch_space(args.workdir) as (scratch, state):
        model = model_file(scratch, 1).rename(scratch / "fleetModel.zip")
        with SimulatorProcess(scratch, device_count=args.devices, task_step=TASK_STEP, state_dir=state) as simulator:
            ansible = Ansible(scratch, simulator)
            results = measure(ansible, simulator, [args.devices], args.repeat, model)
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
