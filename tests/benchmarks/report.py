"""The benchmark figures as Markdown tables (the generated sections of docs/performance.md) and as a plot."""

import re

from .upload import CURL, MODULE, REPLACE, SEND, SEND_HASHED, URI

MIB = 1024 * 1024
WAYS = (MODULE, URI, CURL)
TABLE_WAYS = (MODULE, REPLACE, URI, CURL)
RSS_LIMIT_MIB = 64
PUT_TARGET = 0.9
NET_TARGET = 0.8
URI_TARGET = 1.5
NET_SIZES = (512, 2048)


def _size(mib):
    return "%d GiB" % (mib // 1024) if mib >= 1024 and mib % 1024 == 0 else "%d MiB" % mib


def _num(value, pattern="%.2f"):
    return "-" if value is None else pattern % value


def _verdict(ok):
    return "met" if ok else "**not met**"


def machine_section(results):
    info = results["machine"]
    settings = results["settings"]
    rows = [
        ("CPU", "%s, %s cores" % (info["cpu"], info["cores"])),
        ("memory", "%s GiB" % info["memory_gib"]),
        ("system", info["os"]),
        ("software", "Python %s, ansible-core %s, requests %s, urllib3 %s, aiohttp %s (simulator), %s" % (
            info["python"], info["ansible_core"], info["requests"], info["urllib3"], info["aiohttp"], info["openssl"])),
        ("curl", info["curl"]),
        ("load average (1, 5, 15 min)", "before %s, after %s" % (", ".join("%.2f" % value for value in info["load_before"]),
                                                                 ", ".join("%.2f" % value for value in info.get("load_after", [])))),
        ("runs", "median of %d for every figure; the suite took %s s" % (settings["repeat"], info.get("duration_s", "?"))),
        # Results written before the simulator counted uploads name the directory objects_on_tmpfs.
        ("simulator state", "in memory (tmpfs)" if settings.get("state_on_tmpfs", settings.get("objects_on_tmpfs")) else "on disk"),
        ("simulator uploads", "kept" if settings.get("uploads_kept", True) else "read and counted, not kept"),
    ]
    return "\n".join(["| | |", "|---|---|"] + ["| %s | %s |" % row for row in rows])


def upload_section(results):
    startup = results["startup"]["empty_playbook"]
    lines = ["| size | way | whole run s | MiB/s | PUT phase s | PUT MiB/s | peak RSS MiB | uploader CPU s/GiB | simulator CPU s/GiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for upload in results["uploads"]:
        for way in (way for way in TABLE_WAYS if way in upload["first"]):
            figures = upload["first"][way]
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                _size(upload["mib"]), way, _num(figures["wall"]), _num(figures["mib_s"], "%.0f"), _num(figures["put_seconds"]),
                _num(figures["put_mib_s"], "%.0f"), _num(figures["rss_mib"], "%.1f"), _num(figures.get("cpu_s_per_gib")),
                _num(figures.get("server_cpu_s_per_gib"))))
    one_task = results["startup"].get("one_task_playbook")
    lines += ["", "Bare `ansible-playbook` start-up (a play with no task): %.2f s%s." % (
        startup, "; a play with one `ansible.builtin.ping` task: %.2f s" % one_task if one_task else "")]
    return "\n".join(lines)


def send_section(results):
    """The PUT phase of the send path alone, with and without the hash, next to curl's and the module's."""
    lines = ["| size | what sends | PUT phase s | PUT MiB/s | x curl | uploader CPU s/GiB |", "|---|---|---:|---:|---:|---:|"]
    for upload in results["uploads"]:
        curl = upload["first"].get(CURL, {}).get("put_mib_s")
        for way in (way for way in (CURL, SEND, SEND_HASHED, MODULE) if way in upload["first"]):
            figures = upload["first"][way]
            ratio = figures["put_mib_s"] / curl if figures["put_mib_s"] and curl else None
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                _size(upload["mib"]), way, _num(figures["put_seconds"]), _num(figures["put_mib_s"], "%.0f"),
                _num(ratio), _num(figures.get("cpu_s_per_gib"))))
    return "\n".join(lines)


def targets_section(results):
    startup = results["startup"]["empty_playbook"]
    lines = ["| size | target | figure | |", "|---|---|---:|---|"]
    for upload in results["uploads"]:
        mib = upload["mib"]
        module, uri, curl = (upload["first"][way] for way in WAYS)
        ratio = module["put_mib_s"] / curl["put_mib_s"]
        lines.append("| %s | PUT phase >= %.1f x curl | %.2f x (%.0f vs %.0f MiB/s) | %s |" % (
            _size(mib), PUT_TARGET, ratio, module["put_mib_s"], curl["put_mib_s"], _verdict(ratio >= PUT_TARGET)))
        if mib in NET_SIZES:
            net = mib / (module["wall"] - startup)
            ratio = net / curl["mib_s"]
            lines.append("| %s | whole run minus start-up >= %.1f x curl | %.2f x (%.0f vs %.0f MiB/s) | %s |" % (
                _size(mib), NET_TARGET, ratio, net, curl["mib_s"], _verdict(ratio >= NET_TARGET)))
            ratio = module["mib_s"] / uri["mib_s"]
            lines.append("| %s | whole run >= %.1f x uri playbook | %.2f x (%.0f vs %.0f MiB/s) | %s |" % (
                _size(mib), URI_TARGET, ratio, module["mib_s"], uri["mib_s"], _verdict(ratio >= URI_TARGET)))
        lines.append("| %s | module peak RSS <= %d MiB | %.1f MiB (uri: %.1f) | %s |" % (
            _size(mib), RSS_LIMIT_MIB, module["rss_mib"], uri["rss_mib"] or 0, _verdict(module["rss_mib"] <= RSS_LIMIT_MIB)))
    return "\n".join(lines)


def rerun_section(results):
    lines = ["| size | way | wall s | requests | mutating | bytes sent |", "|---|---|---:|---:|---:|---:|"]
    for upload in results["uploads"]:
        for way in WAYS:
            figures = upload["rerun"][way]
            label = "curl script" if way == CURL else way
            lines.append("| %s | %s | %s | %d | %d | %d |" % (
                _size(upload["mib"]), label, _num(figures["wall"]), figures["requests"], figures["mutating"], figures["bytes_sent"]))
    module = [upload["rerun"][MODULE] for upload in results["uploads"]]
    ok = all(item["bytes_sent"] == 0 and item["mutating"] == 0 and item["requests"] <= 3 for item in module)
    lines += ["", "lem_model_file rerun target (0 bytes sent, 0 mutating requests, at most 3 requests): %s." % _verdict(ok)]
    return "\n".join(lines)


def fleet_section(results):
    if not results.get("fleet"):
        return "(fleet benchmark not run)"
    fleet = results["fleet"]
    kinds = sorted(set(kind for result in fleet for phase in ("rollout", "rerun") for kind in result[phase]["by_kind"]))
    lines = ["| devices | run | wall s | requests | POST | %s |" % " | ".join(kinds),
             "|---:|---|---:|---:|---:|%s|" % "|".join("---:" for _kind in kinds)]
    for result in fleet:
        for phase in ("rollout", "rerun"):
            figures = result[phase]
            lines.append("| %d | %s | %.2f | %d | %d | %s |" % (
                result["devices"], phase, figures["wall"], figures["requests"], figures["posts"],
                " | ".join(str(figures["by_kind"].get(kind, 0)) for kind in kinds)))
    posts = [result["rerun"]["posts"] for result in fleet]
    lines += ["", "Reruns: %s POST (target: none)." % ", ".join(str(count) for count in posts)]
    return "\n".join(lines)


def overhead_section(results):
    startup = results["startup"]
    lines = ["| run | wall s | over `ansible -m ping` |", "|---|---:|---:|",
             "| `ansible localhost -m ansible.builtin.ping` | %.2f | |" % startup["ping"],
             "| `ansible-playbook` of a play with no task | %.2f | %+.2f s |" % (startup["empty_playbook"], startup["empty_playbook"] - startup["ping"])]
    if "one_task_playbook" in startup:
        lines.append("| `ansible-playbook` of a play with one `ansible.builtin.ping` task | %.2f | %+.2f s |" % (
            startup["one_task_playbook"], startup["one_task_playbook"] - startup["ping"]))
    for result in results.get("fleet") or []:
        wall = result["rerun"]["wall"]
        lines.append("| model_rollout rerun, %d converged devices | %.2f | %+.2f s (%.1f x) |" % (
            result["devices"], wall, wall - startup["ping"], wall / startup["ping"]))
    return "\n".join(lines)


def sections(results):
    return {
        "machine": machine_section(results),
        "upload": upload_section(results),
        "targets": targets_section(results),
        "send": send_section(results),
        "rerun": rerun_section(results),
        "fleet": fleet_section(results),
        "overhead": overhead_section(results),
    }


def write_markdown(path, generated):
    """Replace each `<!-- generated: NAME -->` ... `<!-- end: NAME -->` section of the report; the prose around stays."""
    text = path.read_text()
    for name, body in generated.items():
        pattern = re.compile(r"(<!-- generated: %s -->\n).*?(<!-- end: %s -->)" % (name, name), re.S)
        if not pattern.search(text):
            raise SystemExit("%s has no generated section %r" % (path, name))
        text = pattern.sub(lambda match, body=body: match.group(1) + body + "\n" + match.group(2), text)
    path.write_text(text)


def plot(results, path):
    """MiB/s by file size for the three ways: whole runs as solid lines, PUT phases dashed."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = [upload["mib"] for upload in results["uploads"]]
    figure, axes = pyplot.subplots(figsize=(8, 6), dpi=100)
    styles = {MODULE: ("tab:blue", "o"), URI: ("tab:orange", "s"), CURL: ("tab:green", "^")}
    for way in WAYS:
        color, marker = styles[way]
        whole = [upload["first"][way]["mib_s"] for upload in results["uploads"]]
        label = "curl -T (the limit here)" if way == CURL else "%s, whole ansible-playbook run" % way
        axes.plot(sizes, whole, color=color, marker=marker, label=label)
        if way != CURL:
            put = [upload["first"][way]["put_mib_s"] for upload in results["uploads"]]
            axes.plot(sizes, put, color=color, marker=marker, linestyle="--", label="%s, PUT phase" % way)
    if all(REPLACE in upload["first"] for upload in results["uploads"]):
        put = [upload["first"][REPLACE]["put_mib_s"] for upload in results["uploads"]]
        axes.plot(sizes, put, color="tab:blue", marker="o", linestyle=":", fillstyle="none",
                  label="%s (sha256 known before), PUT phase" % MODULE)
    axes.set_xscale("log", base=2)
    axes.set_xticks(sizes)
    axes.set_xticklabels([_size(mib) for mib in sizes])
    axes.set_xlabel("file size")
    axes.set_ylabel("MiB/s (median of %d)" % results["settings"]["repeat"])
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.set_title("Upload to the LEM simulator on loopback (%s cores)" % results["machine"]["cores"])
    # Below the axes: inside, it would hide the PUT-phase lines, which run close together.
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    figure.tight_layout()
    figure.savefig(str(path))
    pyplot.close(figure)
