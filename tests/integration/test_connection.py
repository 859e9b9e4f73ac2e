"""The shared client over real HTTPS, through the modules: TLS, authentication, failures, environment, proxies.

lem_model_info is the cheapest module to drive, so most cases use it; every
module reaches LEM through the same client.
"""

import base64
import socket

import requests.certs

from tests.integration.conftest import lem_environment
from tests.simulator import Simulator

WRONG_TOKEN = "lem-token-that-lem-never-issued-42"
OTHER_PEM = requests.certs.where()  # a CA bundle that did not sign the simulator's certificate
TLS_FIXES = ("If LEM uses a self-signed certificate, point ca_path (or LEM_CA_PATH) at the CA that signed it, "
             "or set validate_certs: false to skip the check.")
TOKENS_HELP = "Create one under System > Access Control > Tokens and set lem_token (or LEM_API_TOKEN)."


def basic(token):
    return base64.b64encode(("%s:" % token).encode()).decode()


def free_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def host_of(sim):
    return sim.url.split("://", 1)[1]


def tokens(sim):
    """The tokens a case may name, by key (cases.yml looks them up, so loop items never hold one)."""
    return {"full": sim.token, "readonly": sim.readonly_token, "restricted": sim.restricted_token, "wrong": WRONG_TOKEN}


def environment(sim, **values):
    """LEM_* variables for a run without the defaults: ``values`` set or, when None, leave one out."""
    env = lem_environment(sim, **values)
    return {name: value for name, value in env.items() if value is not None}


def items(run, task="Call lem_model_info for each case"):
    results = run.task(task)["results"]
    assert all(result["changed"] is False for result in results), results
    return results


def messages(run, task="Call lem_model_info for each case"):
    """The failure sentence of each case, None for a case that worked."""
    return [result["msg"] if result.get("failed") else None for result in items(run, task)]


def assert_secret_free(run, sim):
    """No token of the simulator (nor the wrong one), nor its Basic form, anywhere in the run's output."""
    for token in tokens(sim).values():
        assert token not in run.output, token
        assert basic(token) not in run.output, token


def auth_headers(entry):
    """The credentials a request carried, as (Authorization, X-AuthToken)."""
    headers = {name.lower(): value for name, value in entry["headers"].items()}
    return headers.get("authorization"), headers.get("x-authtoken")


def test_ca_path_decides_whatever_the_ca_bundle_variables_say(sim, playbook):
    cases = [{"ca_path": sim.ca_path}, {}, {"validate_certs": False}]
    env = environment(sim, LEM_CA_PATH=None, REQUESTS_CA_BUNDLE=OTHER_PEM, CURL_CA_BUNDLE=OTHER_PEM)
    run = playbook("cases.yml", lem=False, env=env, extra_vars={"info_cases": [dict(case, gather=["staged"]) for case in cases]})
    assert run.rc == 0, run.output
    with_ca_path, by_default, unverified = messages(run)
    assert with_ca_path is None and unverified is None
    prefix = "Could not verify the TLS certificate of %s (" % host_of(sim)
    assert by_default.startswith(prefix) and by_default.endswith(
        ") for the staged file list (page 0). " + TLS_FIXES), by_default
    assert_secret_free(run, sim)

    # The simulator's own CA in the variables does not make the default trust it either.
    env = environment(sim, LEM_CA_PATH=None, REQUESTS_CA_BUNDLE=sim.ca_path, CURL_CA_BUNDLE=sim.ca_path)
    run = playbook("cases.yml", lem=False, env=env, extra_vars={"info_cases": [{"gather": ["staged"]}]})
    assert messages(run)[0].startswith(prefix), run.output
    assert_secret_free(run, sim)
    assert [entry["status"] for entry in sim.requests()] == [200, 200]  # the cases that got through the handshake


def check_auth_modes(sim, playbook, refused_mode):
    cases = [{"gather": ["staged"], "auth_mode": mode} for mode in ("basic", "header", "auto")]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    refused = ("LEM refused the API token (401 Unauthorized) on the staged file list (page 0): the token is invalid or "
               "expired. %s This LEM may read the token the other way: try auth_mode: auto." % TOKENS_HELP)
    expected = {"basic": None, "header": None, "auto": None}
    expected[refused_mode] = refused
    assert messages(run) == [expected["basic"], expected["header"], expected["auto"]]
    assert_secret_free(run, sim)


def test_auth_modes_against_a_lem_that_reads_only_the_header(sim, playbook):
    sim.configure(auth_basic=False)
    check_auth_modes(sim, playbook, refused_mode="basic")
    logged = [(auth_headers(entry), entry["status"]) for entry in sim.requests()]
    assert logged == [(("Basic " + basic(sim.token), None), 401), ((None, sim.token), 200),
                      (("Basic " + basic(sim.token), sim.token), 200)]


def test_auth_modes_against_a_lem_that_reads_only_basic_auth(sim, playbook):
    sim.configure(auth_header=False)
    check_auth_modes(sim, playbook, refused_mode="header")
    logged = [(auth_headers(entry), entry["status"]) for entry in sim.requests()]
    assert logged == [(("Basic " + basic(sim.token), None), 200), ((None, sim.token), 401),
                      (("Basic " + basic(sim.token), sim.token), 200)]


def test_refused_tokens_and_an_unknown_project_are_explained(sim, playbook, tmp_path):
    src = tmp_path / "motionModel.zip"
    src.write_bytes(b"model")
    project = sim.project_id
    info_cases = [
        {"gather": ["staged"], "token": "wrong"},
        {"gather": ["staged"], "token": "restricted"},
        {"gather": ["staged"], "project_id": "no-such-project"},
    ]
    file_cases = [{"src": str(src), "token": "readonly"}]
    run = playbook("cases.yml", verbosity=3,
                   extra_vars={"info_cases": info_cases, "file_cases": file_cases, "tokens": tokens(sim)})
    assert run.rc == 0, run.output
    assert messages(run) == [
        "LEM refused the API token (401 Unauthorized) on the staged file list (page 0): the token is invalid or "
        "expired. " + TOKENS_HELP,
        "The API token lacks the right for the staged file list (page 0) on project %s (403 Forbidden, GET "
        "/api/v1/file/%s/list): give the token read access to this project under System > Access Control > Tokens."
        % (project, project),
        "LEM found nothing at GET /api/v1/file/no-such-project/list (404 Not Found, for the staged file list (page 0)): "
        "check project_id (no-such-project) and that lem_url is a Litmus Edge Manager that offers this API.",
    ]
    assert messages(run, "Call lem_model_file for each case") == [
        "The API token lacks the right for an upload URL for motionModel.zip on project %s (403 Forbidden, POST "
        "/api/v1/file/%s/mlModel/motionModel.zip/upload-url): give the token write access to this project under "
        "System > Access Control > Tokens." % (project, project)]
    assert [(entry["endpoint"], entry["status"]) for entry in sim.requests()] == [
        ("file_list", 401), ("file_list", 403), ("file_list", 404), ("file_list", 200), ("upload_url", 403)]
    assert_secret_free(run, sim)


def test_an_unreachable_lem_is_named(sim, playbook):
    dead = "https://127.0.0.1:%d" % free_port()
    cases = [{"gather": ["staged"], "lem_url": dead, "retries": 1},
             {"gather": ["staged"], "lem_url": "https://lem.invalid", "retries": 0}]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    assert messages(run) == [
        "Could not reach LEM at %s (connection refused) for the staged file list (page 0) (after 2 attempts): check "
        "lem_url (%s) and that LEM is running and reachable from the controller." % (dead.split("://")[1], dead),
        "Could not reach LEM at lem.invalid (the host name does not resolve) for the staged file list (page 0): check "
        "the host name in lem_url (https://lem.invalid).",
    ]
    assert_secret_free(run, sim)


def test_a_malformed_lem_url_is_refused_before_anything_is_sent(sim, playbook):
    host = host_of(sim)
    cases = [{"lem_url": url, "gather": ["staged"]}
             for url in (sim.url + "/", host, "lem.example.com", sim.url + "/lem", sim.url + "/api/v1",
                         sim.url + "/?project=1", "https://admin:s3cret@" + host)]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    assert messages(run) == [
        None,  # a trailing slash is fine
        "lem_url %r is not a URL of LEM: give it as https://host[:port], for example https://lem.example.com." % host,
        "lem_url 'lem.example.com' is not a URL of LEM: give it as https://host[:port], for example https://lem.example.com.",
        "lem_url '%s/lem' has a path or query: give only the base URL, %s (the collection adds /api/v1/...)." % (sim.url, sim.url),
        "lem_url '%s/api/v1' has a path or query: give only the base URL, %s (the collection adds /api/v1/...)." % (sim.url, sim.url),
        "lem_url '%s/?...' has a path or query: give only the base URL, %s (the collection adds /api/v1/...)."
        % (sim.url, sim.url),
        "lem_url must not carry credentials (user:password@): give it as %s and the API token as lem_token." % sim.url,
    ]
    assert [(entry["path"], entry["status"]) for entry in sim.requests()] == [
        ("/api/v1/file/%s/list" % sim.project_id, 200)]  # the one with a trailing slash, nothing else
    assert "s3cret" not in "".join(message or "" for message in messages(run))
    assert_secret_free(run, sim)


def test_http_works_with_a_warning_that_the_token_travels_in_clear_text(sim, playbook):
    plain = Simulator(seed="test", tls=False).start()
    try:
        run = playbook("info.yml", extra_vars={"info": {"gather": ["staged"], "lem_url": plain.url}})
        assert run.rc == 0, run.output
        result = run.task("Call lem_model_info")
        assert result["changed"] is False and result["staged_files"] == []
        assert result["warnings"] == [
            "lem_url %s uses http://: the API token travels in clear text. Use https:// unless the network is trusted."
            % plain.url]
        assert [(entry["endpoint"], entry["status"]) for entry in plain.requests()] == [("file_list", 200)]
        assert sim.requests() == []
    finally:
        plain.stop()


def test_environment_variables_are_honoured(sim, playbook):
    sim.add_fault(endpoint="model_list", action="delay", seconds=1.5)
    env = environment(sim, LEM_CA_PATH=None, LEM_AUTH_MODE="header", LEM_VALIDATE_CERTS="false", LEM_TIMEOUT="0.5")
    cases = [
        {"gather": ["staged"]},
        {"gather": ["staged"], "auth_mode": "basic"},
        {"gather": ["staged"], "validate_certs": True},
        {"gather": ["models"], "retries": 0},
        {"gather": ["models"], "timeout": 5},
    ]
    run = playbook("cases.yml", lem=False, env=env, extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    from_env, basic_auth, verified, timed_out, patient = items(run)
    arguments = from_env["invocation"]["module_args"]
    assert (arguments["lem_url"], arguments["project_id"], arguments["ca_path"]) == (sim.url, sim.project_id, None)
    assert (arguments["auth_mode"], arguments["validate_certs"], arguments["timeout"]) == ("header", False, 0.5)
    assert from_env["staged_files"] == [] and basic_auth["staged_files"] == [] and patient["models"] == []
    assert verified["msg"].startswith("Could not verify the TLS certificate of %s (" % host_of(sim)), verified["msg"]
    assert timed_out["msg"] == ("LEM at %s did not answer within the time limit for the model list: raise timeout, or "
                                "check LEM's load." % host_of(sim))
    staged_requests = sim.requests("file_list")
    assert [auth_headers(entry) for entry in staged_requests] == [(None, sim.token), ("Basic " + basic(sim.token), None)]
    assert len(sim.requests("model_list")) == 2
    assert_secret_free(run, sim)


def test_options_override_the_environment_variables(sim, playbook):
    env = environment(sim, LEM_URL="https://127.0.0.1:%d" % free_port(), LEM_API_TOKEN=WRONG_TOKEN,
                      LEM_PROJECT_ID="no-such-project", LEM_CA_PATH=OTHER_PEM)
    given = {"lem_url": sim.url, "token": "full", "project_id": sim.project_id, "ca_path": sim.ca_path}
    cases = [dict(given, gather=["staged"])] + [
        dict({key: value for key, value in given.items() if key != left_out}, gather=["staged"], retries=0)
        for left_out in ("lem_url", "token", "project_id", "ca_path")]
    run = playbook("cases.yml", lem=False, env=env, extra_vars={"info_cases": cases, "tokens": tokens(sim)})
    assert run.rc == 0, run.output
    everything_given, url_from_env, token_from_env, project_from_env, ca_from_env = messages(run)
    assert everything_given is None
    assert url_from_env.startswith("Could not reach LEM at %s (connection refused)" % env["LEM_URL"].split("://")[1])
    assert token_from_env.startswith("LEM refused the API token (401 Unauthorized)")
    assert "check project_id (no-such-project)" in project_from_env
    assert ca_from_env.startswith("Could not verify the TLS certificate of %s (" % host_of(sim))
    assert [(entry["endpoint"], entry["status"]) for entry in sim.requests()] == [
        ("file_list", 200), ("file_list", 401), ("file_list", 404)]
    assert_secret_free(run, sim)


def test_a_proxy_from_the_environment_is_used_unless_no_proxy_excludes_lem(sim, playbook):
    proxy_port = free_port()
    proxy = "http://proxyuser:proxy-secret@127.0.0.1:%d" % proxy_port
    proxied = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "http_proxy": proxy,
               "NO_PROXY": "", "no_proxy": ""}
    run = playbook("cases.yml", env=proxied, extra_vars={"info_cases": [{"gather": ["staged"], "retries": 0}]})
    assert run.rc == 0, run.output
    assert messages(run) == [
        "Could not reach LEM at %s for the staged file list (page 0) through the proxy 127.0.0.1:%d set by HTTPS_PROXY "
        "(connection refused): check that proxy, or add 127.0.0.1 to NO_PROXY to connect directly."
        % (host_of(sim), proxy_port)]
    assert "proxy-secret" not in run.output
    assert sim.requests() == []
    assert_secret_free(run, sim)

    bypassed = dict(proxied, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    run = playbook("cases.yml", env=bypassed, extra_vars={"info_cases": [{"gather": ["staged"], "retries": 0}]})
    assert messages(run) == [None], run.output
    assert [(entry["endpoint"], entry["status"]) for entry in sim.requests()] == [("file_list", 200)]


def test_module_defaults_give_the_connection_to_every_module(sim, playbook, tmp_path):
    src = tmp_path / "motionModel.zip"
    src.write_bytes(b"model bytes")
    target = sim.state()["devices"][0]["deviceId"]
    connection = {"lem_url": sim.url, "lem_token": sim.token, "project_id": sim.project_id, "ca_path": sim.ca_path}
    run = playbook("module_defaults.yml", lem=False,
                   extra_vars={"lem_connection": connection, "model_src": str(src), "model_device": target})
    assert run.rc == 0, run.output
    assert run.task("Stage the model")["uploaded"] is True
    assert run.task("Deploy the model")["deployed_devices"] == [target]
    info = run.task("Read the model")
    assert [item["name"] for item in info["staged_files"]] == ["motionModel.zip"]
    assert [model["name"] for model in next(item for item in info["devices"] if item["device_id"] == target)["models"]] == [
        "motionModel"]
    api_calls = [entry for entry in sim.requests() if entry["endpoint"] != "storage_put"]
    assert {"file_list", "upload_url", "upload_complete", "device_models", "deploy", "subtasks"} <= {
        entry["endpoint"] for entry in api_calls}
    # auth_mode: header comes from module_defaults too: every API call carried the header only.
    assert {auth_headers(entry) for entry in api_calls} == {(None, sim.token)}
