"""Upload benchmark: lem_model_file, the hand-written ansible.builtin.uri playbook, and curl, on the same files.

    python -m tests.benchmarks.upload [--size 1024] [--repeat 1]

Uploads a generated file (default 1 GiB) to the simulator through the module (ansible-playbook) and with
`curl -T` to a fresh pre-signed URL, and prints MiB/s of both, their ratio, and the module process's peak RSS.
The suite (python -m tests.benchmarks) uses the functions here for every size and way.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import time

from .harness import (
    MIB,
    Ansible,
    BenchError,
    SimulatorProcess,
    median,
    model_file,
    module_process,
    run_timed,
    scratch_space,
    summarize,
)

MODULE = "lem_model_file"
REPLACE = "lem_model_file, replacing"
URI = "uri playbook"
CURL = "curl -T"
# Not ways users have: the module's upload code alone, to tell the send path's cost from the hash's and Ansible's.
SEND = "upload code, no hashing"
SEND_HASHED = "upload code, sha256 folded in"
WITHOUT_RERUN = (REPLACE, SEND, SEND_HASHED)


def _measure(kind, run, simulator, size, process, server_cpu):
    rss_kib, cpu = process
    log = summarize(simulator.requests_log())
    put_seconds = log["put_seconds"]
    if log["put_bytes"] != size:
        raise BenchError("%s sent %s of %d bytes to the storage" % (kind, log["put_bytes"], size))
    return {
        "way": kind,
        "wall": run.wall,
        "mib_s": size / MIB / run.wall,
        "put_seconds": put_seconds,
        "put_mib_s": size / MIB / put_seconds if put_seconds else None,
        "rss_mib": rss_kib / 1024 if rss_kib else None,
        "cpu_s_per_gib": cpu * 1024 * MIB / size if cpu is not None else None,
        "server_cpu_s_per_gib": server_cpu * 1024 * MIB / size,
        "requests": log["requests"],
        "by_kind": log["by_kind"],
    }


def _rerun(kind, run, simulator):
    log = summarize(simulator.requests_log())
    return {"way": kind, "wall": run.wall, "requests": log["requests"], "mutating": log["mutating"],
            "bytes_sent": log["bytes_sent"], "by_kind": log["by_kind"]}


def _playbook_upload(kind, playbook, module, ansible, simulator, path, name, rerun=True):
    """One upload by an Ansible way, measured, then (with ``rerun``) the same playbook again on the converged file."""
    variables = {"bench_src": str(path), "bench_name": name}
    simulator.clear_requests()
    cpu = simulator.cpu_seconds()
    run = ansible.playbook(playbook, variables, rss=True)
    cpu = simulator.cpu_seconds() - cpu
    first = _measure(kind, run, simulator, path.stat().st_size, module_process(run, module), cpu)
    if not rerun:
        return first, None
    simulator.clear_requests()
    return first, _rerun(kind, ansible.playbook(playbook, variables), simulator)


def upload_module(ansible, simulator, path, name):
    """A fresh upload with lem_model_file, then its rerun on the converged file."""
    return _playbook_upload(MODULE, "upload_module.yml", "lem_model_file", ansible, simulator, path, name)


def upload_module_replacing(ansible, simulator, path, name):
    """lem_model_file over a staged file of that name with other content: the sha256 is computed first (to compare),
    then again while the PUT sends (the marker is the hash of the bytes sent). Its rerun is the same as upload_module's."""
    stale = b"an older model"
    simulator.control("POST", "files", {"name": name, "content": stale.decode(),
                                        "description": "[sha256:%s]" % hashlib.sha256(stale).hexdigest()})
    return _playbook_upload(REPLACE, "upload_module.yml", "lem_model_file", ansible, simulator, path, name, rerun=False)


def upload_uri(ansible, simulator, path, name):
    """A fresh upload with the uri playbook, then its rerun."""
    return _playbook_upload(URI, "upload_uri.yml", "uri", ansible, simulator, path, name)


def upload_send_path(ansible, simulator, path, name, hashed):
    """The module's upload code without Ansible (send_path.py): one PUT to a fresh pre-signed URL, with or without
    the sha256 folded in, and nothing around it (no API steps, no rerun)."""
    url = simulator.presign(name)
    simulator.clear_requests()
    cpu = simulator.cpu_seconds()
    command = [sys.executable, "-m", "tests.benchmarks.send_path", url, str(path)] + (["--sha256"] if hashed else [])
    run = run_timed(command, env=dict(ansible.env, PYTHONPATH=ansible.env["ANSIBLE_COLLECTIONS_PATH"]))
    cpu = simulator.cpu_seconds() - cpu
    kind = SEND_HASHED if hashed else SEND
    if run.rc != 0:
        raise BenchError("%s (send_path.py) exited %d: %s" % (kind, run.rc, run.output[-2000:]))
    return _measure(kind, run, simulator, path.stat().st_size, (run.maxrss_kib, run.cpu), cpu), None


def _curl(simulator, arguments):
    return ["curl", "--silent", "--show-error", "--fail", "--cacert", simulator.env["LEM_CA_PATH"]] + arguments


def _api_curl(simulator, method, path, body=None):
    command = _curl(simulator, ["-X", method, "-H", "X-AuthToken: %s" % simulator.env["LEM_API_TOKEN"], simulator.url + path])
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError("curl %s %s failed: %s" % (method, path, done.stderr))
    return json.loads(done.stdout) if done.stdout.strip() else None


def curl_script_rerun(simulator, path, name):
    """What an idempotent curl script does on a converged file: sha256sum, the file list, and nothing else."""
    project = simulator.env["LEM_PROJECT_ID"]
    simulator.clear_requests()

    def script():
        digest = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=False).stdout.split()[0]
        listing = _api_curl(simulator, "GET", "/api/v1/file/%s/list?requestedPage=0&pageSize=100&limit=100" % project)
        if not any(item["name"] == name and ("[sha256:%s]" % digest) in (item.get("description") or "")
                   for item in listing["elements"]):
            raise BenchError("the curl script found %s not converged" % name)

    run = _timed_call(script)
    return _rerun("curl script", run, simulator)


class _Call:
    def __init__(self, wall):
        self.wall = wall


def _timed_call(function):
    started = time.perf_counter()
    function()
    return _Call(time.perf_counter() - started)


def upload_curl(simulator, path, name):
    """`curl -T` to a fresh pre-signed URL (the physical limit), then the upload-complete step so that the file is
    converged for the curl script's rerun."""
    url = simulator.presign(name)
    simulator.clear_requests()
    cpu = simulator.cpu_seconds()
    run = run_timed(_curl(simulator, ["--output", "/dev/null", "-T", str(path), url]))
    cpu = simulator.cpu_seconds() - cpu
    if run.rc != 0:
        raise BenchError("curl -T exited %d: %s" % (run.rc, run.output[-2000:]))
    first = _measure(CURL, run, simulator, path.stat().st_size, (run.maxrss_kib, run.cpu), cpu)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 * MIB), b""):
            digest.update(block)
    project = simulator.env["LEM_PROJECT_ID"]
    _api_curl(simulator, "POST", "/api/v1/file/%s/mlModel/%s" % (project, name), {"description": "[sha256:%s]" % digest.hexdigest()})
    return first, curl_script_rerun(simulator, path, name)


def measure_size(ansible, simulator, path, repeat, ways=(MODULE, REPLACE, URI, CURL, SEND, SEND_HASHED), progress=print):
    """Every way `repeat` times, interleaved so that a busy moment of the machine touches them alike, in an order
    that turns each round (so that no way always runs first or after another), each from the file in the page cache."""
    firsts, reruns = {way: [] for way in ways}, {way: [] for way in ways if way not in WITHOUT_RERUN}
    for number in range(repeat):
        turn = number % len(ways)
        for way in ways[turn:] + ways[:turn]:
            simulator.reset()
            _read_through(path)
            name = "bench-%d.bin" % number
            if way == MODULE:
                first, again = upload_module(ansible, simulator, path, name)
            elif way == REPLACE:
                first, again = upload_module_replacing(ansible, simulator, path, name)
            elif way == URI:
                first, again = upload_uri(ansible, simulator, path, name)
            elif way in (SEND, SEND_HASHED):
                first, again = upload_send_path(ansible, simulator, path, name, hashed=way == SEND_HASHED)
            else:
                first, again = upload_curl(simulator, path, name)
            firsts[way].append(first)
            if again is not None:
                reruns[way].append(again)
            progress("  %-25s %5d MiB  run %d: %6.2f s  %7.1f MiB/s  PUT %7.1f MiB/s  RSS %s" % (
                way, path.stat().st_size // MIB, number + 1, first["wall"], first["mib_s"], first["put_mib_s"] or 0,
                "%.1f MiB" % first["rss_mib"] if first["rss_mib"] else "-"))
    return firsts, reruns


def _read_through(path):
    """Read the file once, so that every way starts with it in the page cache (the machine may evict it between runs)."""
    with open(path, "rb") as handle:
        while handle.read(4 * MIB):
            pass


def summary(samples):
    """The median of each figure over the repetitions."""
    keys = ("wall", "mib_s", "put_seconds", "put_mib_s", "rss_mib", "cpu_s_per_gib", "server_cpu_s_per_gib", "requests", "mutating",
            "bytes_sent")
    result = {"way": samples[0]["way"], "runs": len(samples)}
    for key in keys:
        if key in samples[0]:
            result[key] = median([sample[key] for sample in samples])
    result["by_kind"] = samples[len(samples) // 2]["by_kind"]
    result["samples"] = samples
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.upload", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", help="where to make the file (default: a temporary directory)")
    args = parser.parse_args(argv)
    with scratch_space(args.workdir) as (scratch, state):
        path = model_file(scratch, args.size)
        with SimulatorProcess(scratch, state_dir=state) as simulator:
            ansible = Ansible(scratch, simulator)
            firsts, _reruns = measure_size(ansible, simulator, path, args.repeat, ways=(MODULE, CURL))
    module, curl = summary(firsts[MODULE]), summary(firsts[CURL])
    print("\n%d MiB, median of %d" % (args.size, args.repeat))
    print("  lem_model_file (whole ansible-playbook run): %7.1f MiB/s  (%.2f s)" % (module["mib_s"], module["wall"]))
    print("  lem_model_file PUT phase:                    %7.1f MiB/s" % module["put_mib_s"])
    print("  curl -T:                                     %7.1f MiB/s  (%.2f s)" % (curl["mib_s"], curl["wall"]))
    print("  ratio module/curl: whole run %.2f, PUT phase %.2f" % (module["mib_s"] / curl["mib_s"], module["put_mib_s"] / curl["put_mib_s"]))
    print("  module process peak RSS: %.1f MiB" % module["rss_mib"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
