"""What the benchmarks share: the LEM simulator in a process of its own, timed runs of ansible-playbook and curl,
the peak RSS of the process that does the work, and the simulator's request log turned into counts.

Peak RSS of a module: the module runs as a child of ansible-playbook, so the playbooks are run with
``ansible_python_interpreter`` pointing at a wrapper that starts the real interpreter under GNU time
(``/usr/bin/time -f %M``, the child's VmHWM in KiB) and appends one line per module process to a log; without
GNU time, a Python wrapper reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of the interpreter it ran.
Peak RSS of curl: ``os.wait4`` of the curl process.
"""

import collections
import contextlib
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE / "playbooks"
INVENTORY = HERE / "inventory.yml"
BIN = Path(sys.executable).parent
MIB = 1024 * 1024
MUTATING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
SIMULATOR_STARTUP = 60
GNU_TIME = "/usr/bin/time"

_PYTHON_WRAPPER = '''#!{python}
import os, resource, subprocess, sys, time
started = time.monotonic()
code = subprocess.call([{python!r}] + sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(os.environ["LEM_BENCH_RSS_LOG"], "a") as log:
    log.write("%d %.2f %.2f+%.2f %s\\n" % (usage.ru_maxrss, time.monotonic() - started, usage.ru_utime, usage.ru_stime, " ".join(sys.argv[1:])))
sys.exit(code)
'''


class BenchError(Exception):
    """A benchmark step did not do what it should; the message says which and shows its output."""


class Timed:
    """A finished process: exit code, wall seconds, its own peak RSS (KiB, with its descendants), its output."""

    def __init__(self, rc, wall, maxrss_kib, output):
        self.rc = rc
        self.wall = wall
        self.maxrss_kib = maxrss_kib
        self.output = output
        self.cpu = None
        self.modules = []


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def run_timed(command, env=None, cwd=None):
    """Run a command to its end; wall time from fork to reaping, and its peak RSS.

    The peak RSS comes from GNU time where there is one: wait4's figure would count the copy of this Python
    process that the child was before it ran the command.
    """
    command = [str(part) for part in command]
    with tempfile.TemporaryDirectory() as scratch:
        output_path, rss_path = Path(scratch) / "output", Path(scratch) / "rss"
        if os.access(GNU_TIME, os.X_OK):
            command = [GNU_TIME, "-o", str(rss_path), "-f", "%M %U %S"] + command
        with open(output_path, "wb") as output:
            started = time.perf_counter()
            process = subprocess.Popen(command, env=env, cwd=str(cwd or ROOT), stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=subprocess.STDOUT)
            _pid, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        text = output_path.read_text(encoding="utf-8", errors="replace")
        maxrss, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        if rss_path.exists():
            lines = [line.split() for line in rss_path.read_text().splitlines() if line.split() and line.split()[0].isdigit()]
            if lines:
                maxrss, cpu = int(lines[-1][0]), float(lines[-1][1]) + float(lines[-1][2])
    done = Timed(process.returncode, wall, maxrss, text)
    done.cpu = cpu
    return done


@contextlib.contextmanager
def scratch_space(base=None):
    """(scratch, state), both removed at the end: a scratch directory (under `base` if given) for generated files,
    the collections path and the RSS wrapper, and where the simulator keeps its state: memory (tmpfs) when there
    is one, so that saving it after every change never waits on the disk."""
    scratch = Path(tempfile.mkdtemp(prefix="litmus-lem-bench-", dir=base))
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        state = Path(tempfile.mkdtemp(prefix="litmus-lem-bench-state-", dir=str(shm)))
    else:
        state = Path(tempfile.mkdtemp(prefix="state-", dir=str(scratch)))
    try:
        yield scratch, state
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


def collections_path(scratch):
    """A directory holding ansible_collections/litmus/lem: the checkout's own parents, or a link to it."""
    if ROOT.parent.name == "litmus" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    holder = scratch / "collections"
    link = holder / "ansible_collections" / "litmus" / "lem"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    return holder


def rss_wrapper(scratch):
    """An interpreter for ansible_python_interpreter that logs each module process's peak RSS."""
    wrapper = scratch / "python-rss"
    if os.access(GNU_TIME, os.X_OK):
        wrapper.write_text('#!/bin/sh\nexec %s -a -o "$LEM_BENCH_RSS_LOG" -f "%%M %%e %%U+%%S %%C" %s "$@"\n' % (GNU_TIME, sys.executable))
    else:
        wrapper.write_text(_PYTHON_WRAPPER.format(python=sys.executable))
    wrapper.chmod(0o755)
    return wrapper


def read_rss_log(path):
    """(peak RSS KiB, wall seconds, CPU seconds, command) of each process the wrapper ran."""
    entries = []
    if not path.exists():
        return entries
    for line in path.read_text().splitlines():
        parts = line.split(" ", 3)
        # GNU time adds a line of its own for a non-zero exit; only the format's lines start with a number.
        if len(parts) == 4 and parts[0].isdigit():
            user, system = parts[2].split("+")
            entries.append((int(parts[0]), float(parts[1]), float(user) + float(system), parts[3]))
    return entries


def model_file(scratch, mib):
    """A file of `mib` MiB of random bytes (made once per size)."""
    path = scratch / ("model-%dMiB.bin" % mib)
    if not path.exists():
        with open(path, "wb") as handle:
            for _block in range(mib):
                handle.write(os.urandom(MIB))
    return path


class SimulatorProcess:
    """`python -m tests.simulator` in a process of its own, so that the server never shares a GIL with a client.

    Unless told to keep them, it counts the bytes of each upload and keeps none (--discard-uploads): on a virtual
    machine, writing them to memory costs the shared CPU anything from 0.3 to almost 3 s per GiB, depending on
    whether the kernel must fault fresh pages in, and that would decide the comparison more than the ways compared.
    """

    def __init__(self, scratch, device_count=3, task_step=1.0, state_dir=None, keep_uploads=False):
        self._scratch = scratch
        self.keep_uploads = keep_uploads
        self._state_dir = state_dir
        self._device_count = device_count
        self._task_step = task_step
        self.process = None
        self.env = {}
        self.session = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        env_file = self._scratch / "simulator.json"
        if env_file.exists():
            env_file.unlink()
        command = [sys.executable, "-m", "tests.simulator", "--seed", "bench", "--device-count", str(self._device_count),
                   "--task-step", str(self._task_step), "--env-file", str(env_file)]
        if not self.keep_uploads:
            command.append("--discard-uploads")
        if self._state_dir is not None:
            command += ["--state-dir", str(self._state_dir)]
        with open(self._scratch / "simulator.log", "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + SIMULATOR_STARTUP
        while not env_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError("the simulator did not start; see %s" % (self._scratch / "simulator.log"))
            time.sleep(0.1)
        self.env = json.loads(env_file.read_text())
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = self.env["LEM_CA_PATH"]
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def url(self):
        return self.env["LEM_URL"]

    def cpu_seconds(self):
        """CPU seconds the simulator process has used so far (all its threads)."""
        fields = Path("/proc/%d/stat" % self.process.pid).read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def control(self, method, path, body=None):
        answer = self.session.request(method, "%s/_sim/%s" % (self.url, path), json=body, timeout=300)
        if answer.status_code >= 400:
            raise BenchError("simulator control %s %s: %s %s" % (method, path, answer.status_code, answer.text[:300]))
        return answer.json() if answer.content else None

    def reset(self, **settings):
        self.control("POST", "reset", settings)

    def requests_log(self):
        return self.control("GET", "requests")

    def clear_requests(self):
        self.control("DELETE", "requests")

    def api(self, method, path, body=None):
        answer = self.session.request(method, self.url + path, json=body, timeout=60,
                                      headers={"X-AuthToken": self.env["LEM_API_TOKEN"]})
        if answer.status_code >= 400:
            raise BenchError("LEM API %s %s: %s %s" % (method, path, answer.status_code, answer.text[:300]))
        return answer.json() if answer.content else None

    def presign(self, name):
        project = self.env["LEM_PROJECT_ID"]
        return self.api("POST", "/api/v1/file/%s/mlModel/%s/upload-url" % (project, name),
                        {"projectId": project, "fileName": name})["url"]


def summarize(entries):
    """Counts of a request log: all, by kind, mutating; body bytes the simulator received; the storage PUTs' seconds."""
    kinds = collections.Counter(entry["endpoint"] or "other" for entry in entries)
    puts = [entry for entry in entries if entry["endpoint"] == "storage_put"]
    return {
        "requests": len(entries),
        "by_kind": dict(sorted(kinds.items())),
        "mutating": sum(1 for entry in entries if entry["method"] in MUTATING),
        "posts": sum(1 for entry in entries if entry["method"] == "POST"),
        "bytes_sent": sum(entry["body_bytes"] or 0 for entry in entries),
        "put_seconds": sum(entry["elapsed"] or 0 for entry in puts) if puts else None,
        "put_bytes": sum(entry["body_bytes"] or 0 for entry in puts),
    }


class Ansible:
    """ansible-playbook and ansible against the simulator, with the collection from this checkout."""

    def __init__(self, scratch, simulator):
        self._scratch = scratch
        self._wrapper = rss_wrapper(scratch)
        self._runs = 0
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("LEM_"):
                del env[name]
        env.update(simulator.env)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path(scratch)),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
        })
        self.env = env

    def _run(self, command, extra_vars, rss):
        self._runs += 1
        log = self._scratch / ("rss-%d.log" % self._runs)
        if log.exists():
            log.unlink()
        env = dict(self.env, LEM_BENCH_RSS_LOG=str(log))
        extra = dict(extra_vars or {}, ansible_python_interpreter=str(self._wrapper if rss else sys.executable))
        done = run_timed(command + ["-i", str(INVENTORY), "-e", json.dumps(extra)], env=env)
        if done.rc != 0:
            raise BenchError("%s exited %d:\n%s" % (" ".join(str(part) for part in command), done.rc, done.output[-4000:]))
        done.modules = read_rss_log(log)
        return done

    def playbook(self, name, extra_vars=None, rss=False):
        return self._run([BIN / "ansible-playbook", PLAYBOOKS / name], extra_vars, rss)

    def ping(self):
        return self._run([BIN / "ansible", "localhost", "-m", "ansible.builtin.ping"], None, False)


def module_process(run, module):
    """(the largest peak RSS in KiB, the largest CPU seconds) among the processes of that module in a playbook run:
    for the uri playbook, the process that sent the bytes; (None, None) without one."""
    found = [(kib, cpu) for kib, _wall, cpu, command in run.modules if "AnsiballZ_%s.py" % module in command]
    if not found:
        return None, None
    return max(kib for kib, _cpu in found), max(cpu for _kib, cpu in found)


def _first_line(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not found"
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def machine():
    """The machine and software the figures were taken on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        system = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        system = platform.system()
    import ansible.release
    import aiohttp
    import urllib3
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "os": "%s, kernel %s" % (system, platform.release()),
        "python": platform.python_version(),
        "ansible_core": ansible.release.__version__,
        "requests": requests.__version__,
        "urllib3": urllib3.__version__,
        "aiohttp": aiohttp.__version__,
        "openssl": ssl.OPENSSL_VERSION,
        "curl": _first_line(["curl", "--version"]),
        "load_before": [round(value, 2) for value in os.getloadavg()],
    }
