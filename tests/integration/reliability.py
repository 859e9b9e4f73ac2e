"""The fault matrix and the abuse matrix, as data: one row per case.

Each row says what is done to the collection (``case``), what it must do
(``expected``) and how the case is run (``how``, a scenario of
test_reliability.py, with ``params``). test_reliability.py runs every row;
tests/utils/reliability_doc.py turns the rows into docs/reliability.md, and a
test fails when that page differs from what the rows give, so the page cannot
drift from the tests.
"""

from dataclasses import dataclass, field

TEST_FILE = "tests/integration/test_reliability.py"


@dataclass(frozen=True)
class Row:
    id: str
    area: str
    case: str
    expected: str
    how: str
    params: dict = field(default_factory=dict)

    def node_id(self, matrix):
        return "%s::test_%s[%s]" % (TEST_FILE, matrix, self.id)


RERUN = " The rerun converges: it succeeds, and a third run changes nothing."

# ---- the fault matrix ----------------------------------------------------------------------------------------

# Endpoint kinds of the simulator, the call the collection makes there and the words that call has in a message.
ENDPOINTS = (
    ("upload_url", "upload step 1, the upload URL (POST .../upload-url), by lem_model_file", "an upload URL for"),
    ("storage_put", "upload step 2, the PUT of the bytes to the pre-signed URL, by lem_model_file", "the upload of"),
    ("upload_complete", "upload step 3, upload-complete (POST .../mlModel/NAME), by lem_model_file", "the upload-complete step"),
    ("file_list", "the staged file list (GET .../list), by lem_model_file", "the staged file list"),
    ("file_delete", "the deletion of a staged file (DELETE), by lem_model_file state=absent", "the deletion of"),
    ("deploy", "the deployment request (POST .../task-with-subtasks), by lem_model_deploy", "the deployment request"),
    ("subtasks", "the task's subtasks, polled while waiting, by lem_model_deploy", "the subtasks of task"),
    ("history", "the task history (read when a target lists the model), by lem_model_deploy", "the task history"),
    ("device_models", "the device list (Get Models), by lem_model_deploy", "the device list (Get Models)"),
    ("model_list", "the model list, by lem_model_info gather=models", "the model list"),
)
STATUSES = (429, 502, 503, 504)


def _grid_expected(endpoint, status, persistent):
    if endpoint == "deploy" and status != 429:
        return ("Not repeated (LEM may have acted on it): exactly one POST; fails saying the deployment may have started "
                "and to check with lem_model_info (gather: [history] or [devices]) before running again." + RERUN)
    if not persistent:
        wait = "after the Retry-After of 1 s (measured)" if status == 429 else "after a backoff"
        return "Retried %s; the run succeeds with what was asked." % wait + RERUN
    if endpoint == "subtasks":
        return ("Polling is retried until wait_timeout, then fails with status TIMEOUT, the per-device state and the "
                "last poll's error naming the call and %d." % status + RERUN)
    later = " Nothing after it is sent (no upload-complete without a stored upload)." if endpoint in (
        "upload_url", "storage_put") else ""
    return ("Retried once (retries: 1), then fails naming the call and %d after 2 attempts.%s" % (status, later) + RERUN)


GRID = [
    Row("%s-%d-%s" % (endpoint, status, "persistent" if persistent else "transient"),
        "%d on each endpoint" % status,
        "%s answers %d%s %s: %s." % (endpoint, status, " (Retry-After: 1)" if status == 429 and not persistent else "",
                                     "on every request" if persistent else "once", call),
        _grid_expected(endpoint, status, persistent),
        "endpoint_status", {"endpoint": endpoint, "status": status, "persistent": persistent})
    for endpoint, call, _words in ENDPOINTS for status in STATUSES for persistent in (False, True)
]

STEPS = (("upload_url", "step 1 (upload URL)"), ("put_object", "step 2 (storage PUT)"),
         ("complete_upload", "step 3 (upload-complete)"))

UPLOAD_STEPS = [
    Row("%s-%s" % (fault, step), "connection failures on each upload step", "%s at %s." % (text, where),
        expected, "upload_step_down", {"step": step, "fault": fault})
    for step, where in STEPS
    for fault, text, expected in (
        ("refused", "Connection refused (LEM stopped) from",
         "Retried (nothing was sent), then fails naming the host, 'connection refused' and the step; no later step; "
         "LEM restarted, the rerun converges."),
        ("dns", "DNS failure (LEM's host name stops resolving) from",
         "Fails naming the host, 'the host name does not resolve' and the step; no later step." + RERUN),
        ("timeout", "Read timeout (LEM or the storage answers after the time limit) at",
         "Fails naming the host, 'did not answer within the time limit', the step and the option to raise; no later "
         "step." + RERUN),
    )
]

RESTARTS = [
    Row("restart-before-%s" % point, "LEM stopped and restarted", "LEM stops right before %s and is back %s later." % (what, "0.2 s"),
        expected, "restart_between", {"point": point})
    for point, what, expected in (
        ("upload_url", "step 1", "The refused connections are retried; the run succeeds." + RERUN),
        ("put_object", "step 2", "The refused PUT is retried; the run succeeds." + RERUN),
        ("complete_upload", "step 3",
         "The refused step 3 is retried and registers the bytes stored before the stop; the run succeeds." + RERUN),
        ("create_task", "the deployment request",
         "The refused POST is retried (it was never sent): one task, the run succeeds." + RERUN),
        ("polling", "the first poll of a running deployment",
         "Polling is retried; the task went on while LEM was down; the run succeeds." + RERUN),
    )
]

CUTS = [
    Row("storage-cut-%s" % where, "storage PUT cut off", case, expected, "storage_cut", {"where": where})
    for where, case, expected in (
        ("midway", "The storage closes the connection after half of the body of a new file.",
         "Fails naming the storage and the closed connection; no upload-complete; nothing is staged." + RERUN),
        ("replacing", "The PUT of new content for a staged file is cut off after half of the body.",
         "Fails; no upload-complete; LEM still lists the older content with its own sha256." + RERUN),
        ("answer-lost", "Every byte reaches the storage, then the connection closes without an answer.",
         "Fails (the outcome is unknown); no upload-complete, so nothing half-known is registered." + RERUN),
    )
]

HALFWAY = [
    Row("rollout-new-content-halfway", "rollout of new content fails halfway",
        "The role rolls v1 out to 3 devices; then v2, and one device fails its deployment.",
        "The role fails naming the device and LEM's message. Once the device is fixed, the rerun deploys only to "
        "that device (the others are current per task history; it holds the older upload) and converges.",
        "rollout_new_content_halfway"),
    Row("deploy-new-content-halfway", "rollout of new content fails halfway",
        "lem_model_deploy of v2 reaches one of two devices holding v1 (the other fails).",
        "The rerun redeploys to the device still holding v1 only, from task history, and converges.",
        "deploy_new_content_halfway"),
]

URLS = [
    Row("expired-url-once", "pre-signed URL", "The first upload URL has already expired.",
        "The storage's 403 'Request has expired' gets one fresh URL; the run succeeds." + RERUN,
        "expired_url", {"persistent": False}),
    Row("expired-url-always", "pre-signed URL", "Every upload URL has already expired.",
        "Fails naming the file and the expiry, without the signature; no upload-complete." + RERUN,
        "expired_url", {"persistent": True}),
    Row("unresolvable-presign-host", "pre-signed URL",
        "LEM signs URLs for a host the controller cannot resolve; upload_via_lem_url: false.",
        "Fails naming the host and saying to set upload_via_lem_url: true; no upload-complete.",
        "unresolvable_presign", {"via_lem_url": False}),
    Row("unresolvable-presign-host-via-lem-url", "pre-signed URL",
        "LEM signs URLs for a host the controller cannot resolve; upload_via_lem_url: true.",
        "The PUT goes to lem_url's address with the signed Host header; the run succeeds." + RERUN,
        "unresolvable_presign", {"via_lem_url": True}),
]

DEPLOYS = [
    Row("device-fails", "deployment", "One of three devices fails its subtask.",
        "Fails naming the device and LEM's message, with status FAILED and the per-device state; once fixed, the rerun "
        "deploys to that device only and converges.", "deploy_device", {"kind": "fails"}),
    Row("device-offline", "deployment", "One target device is offline (wait_for_online: false).",
        "Fails naming the device and 'Device is offline'; online again, the rerun deploys to it and converges.",
        "deploy_device", {"kind": "offline"}),
    Row("task-never-finishes", "deployment", "One device never finishes its subtask.",
        "Fails at wait_timeout with status TIMEOUT, naming the device, the task id and how to follow it; the other "
        "devices are reported deployed; once it finishes, the rerun converges.", "deploy_device", {"kind": "hangs"}),
    Row("polling-fails-for-a-while", "deployment", "The subtasks endpoint answers 503 to six polls in a row (retries: 0).",
        "Polling errors are retried until wait_timeout; the run succeeds." + RERUN, "polling_fails_for_a_while"),
    Row("deploy-post-5xx-acted", "deployment", "LEM creates the task, then answers 502 to the deployment request.",
        "Exactly one POST; fails saying the deployment may have started and how to check; the rerun (after the task "
        "ran) skips the devices and converges.", "deploy_post_lost", {"fault": "5xx_acted"}),
    Row("deploy-post-no-answer-acted", "deployment", "LEM creates the task, then closes the connection without an answer.",
        "Exactly one POST; fails saying the deployment may have started and how to check; the rerun converges.",
        "deploy_post_lost", {"fault": "drop_acted"}),
    Row("deploy-post-no-answer", "deployment", "The connection closes without an answer to the deployment request.",
        "Exactly one POST; fails saying the deployment may have started and how to check; the rerun deploys and "
        "converges.", "deploy_post_lost", {"fault": "drop"}),
    Row("deploy-post-read-timeout", "deployment", "LEM answers the deployment request after the time limit.",
        "Exactly one POST; fails saying the deployment may have started and how to check; the rerun converges.",
        "deploy_post_lost", {"fault": "timeout"}),
]

NOT_JSON = [
    Row("not-json-%s" % endpoint, "answers that are not what LEM sends", "%s answers 200 with an HTML page." % endpoint,
        expected, "not_json", {"endpoint": endpoint})
    for endpoint, expected in (
        ("upload_url", "Fails: not JSON, check that lem_url points at LEM and not at a proxy or login page."),
        ("storage_put", "The PUT seemed to work, but LEM has no bytes: step 3's 404 fails the run, saying so." + RERUN),
        ("upload_complete", "Fails: the bytes reached the storage but LEM did not register them (not JSON); run again." + RERUN),
        ("file_list", "Fails: not JSON, check lem_url."),
        ("file_delete", "The deletion seemed to work, but LEM still lists the file: fails saying so, never reports it "
         "deleted." + RERUN),
        ("deploy", "Fails saying LEM's answer is not JSON, so the deployment may have started, and how to check; one POST."),
        ("subtasks", "Polling retried until wait_timeout; fails with TIMEOUT and the last poll's 'not JSON' error."),
        ("history", "Fails: not JSON, check lem_url; nothing deployed."),
        ("device_models", "Fails: not JSON, check lem_url; nothing deployed."),
        ("model_list", "Fails: not JSON, check lem_url."),
    )
]

ODD = [
    Row("odd-%s" % case_id, "answers that are not what LEM sends", case, expected, "odd_answer", {"case": case_id})
    for case_id, case, expected in (
        ("upload-url-without-url", "The upload-URL answer is {} (no url).",
         "Fails: the answer has no usable 'url'; nothing is PUT."),
        ("upload-complete-not-registered", "Upload-complete answers 200 {} but registers nothing.",
         "Fails: LEM does not list the file with the content just staged; run again." + RERUN),
        ("page-without-pagescount", "A file-list page has no pagesCount (two pages of files, totalSize given).",
         "Pages are followed by totalSize: every file is read, no silent truncation."),
        ("page-without-counts", "A file-list page has neither pagesCount nor totalSize.",
         "Fails: the collection cannot tell whether it read every page; nothing changed."),
        ("page-not-a-page", "The device list answers {} (no elements).",
         "Fails: the answer is not a list of records, naming the shapes expected; nothing deployed."),
        ("elements-not-objects", "The file list's elements are [1, null, \"x\"].",
         "Fails: the page holds elements that are not objects; never a traceback."),
        ("devices-not-objects", "The device list's elements are [1, null, \"x\"].",
         "Fails: the page holds elements that are not objects; nothing deployed."),
        ("models-not-objects", "The model list is [1, null, \"x\"].",
         "Fails: the model list holds elements that are not objects."),
        ("subtasks-not-objects", "The subtasks answer is [1, null, \"x\"].",
         "Polling treats it as an error until wait_timeout; fails with TIMEOUT naming it; never a traceback."),
        ("device-without-id", "The device list holds a record without deviceId beside the real devices (devices: [all]).",
         "The record is left out (it cannot be deployed to) and the real devices are deployed; the result names "
         "only them."),
        ("subtasks-without-done", "Subtasks come without 'done', with status SUCCESS.",
         "A subtask with a final status (SUCCESS, FAILED) and no 'done' counts as finished: the run succeeds."),
        ("subtasks-without-device", "Subtasks come with status SUCCESS and done, but no deviceId.",
         "Every device is failed as 'LEM reports no subtask for this device' and the task is FAILED: never a "
         "success for devices LEM said nothing about."),
        ("deploy-without-task-id", "The deployment request answers 200 {} (no taskId).",
         "Fails saying the deployment may have started and how to check; one POST."),
        ("model-list-not-array", "The model list answers an object instead of an array.",
         "Fails: the model list is not a JSON array."),
        ("empty-page-midway", "Page 1 of 2 of the file list is empty.",
         "Fails: the pages do not advance; nothing changed."),
        ("empty-device-list", "The device list is one empty page; devices named by id.",
         "Fails: the name matches no device; the devices of the project: none."),
        ("stale-file-list", "The file list answers page 0 to every page (3 pages).",
         "Fails: the pages do not advance, the list cannot be read completely; nothing changed."),
        ("stale-history", "The task history answers page 0 to every page (3 pages).",
         "Fails: the pages do not advance; nothing deployed."),
        ("stale-device-list", "The device list answers page 0 to every page (3 pages).",
         "Fails: the pages do not advance; nothing deployed."),
        ("unknown-status-done", "A device's subtask ends done with status CANCELLED.",
         "Reported as it comes: the device failed with status CANCELLED, the task FAILED, the message names it."),
        ("unknown-status-not-done", "Every subtask stays QUEUED, not done.",
         "Waits until wait_timeout; fails with TIMEOUT reporting status QUEUED per device."),
    )
]

FAULTS = GRID + UPLOAD_STEPS + RESTARTS + CUTS + HALFWAY + URLS + DEPLOYS + NOT_JSON + ODD

# ---- the abuse matrix ----------------------------------------------------------------------------------------

REFUSED = " Refused before anything is sent, by lem_model_file (present and absent) and lem_model_deploy."

BAD_NAMES = [
    Row("name-%s" % name_id, "file names", case, "%s%s" % (words_text, REFUSED), "bad_name",
        {"name": name, "words": words})
    for name_id, name, case, words, words_text in (
        ("empty", "", "An empty name.", "empty", "'The file name is empty'."),
        ("dot", ".", "The name '.'.", "not a file name", "'is not a file name'."),
        ("dotdot", "..", "The name '..'.", "not a file name", "'is not a file name'."),
        ("traversal", "../x.zip", "The name '../x.zip'.", "path separator", "'contains a path separator'."),
        ("slash", "a/b.zip", "The name 'a/b.zip'.", "path separator", "'contains a path separator'."),
        ("backslash", "a\\b.zip", "The name 'a\\b.zip'.", "path separator", "'contains a path separator'."),
        ("nul", "a\x00b.zip", "A NUL character in the name.", "control character", "'contains the control character'."),
        ("newline", "a\nb.zip", "A line feed in the name.", "control character", "'contains the control character'."),
        ("carriage-return", "a\rb.zip", "A carriage return in the name.", "control character",
         "'contains the control character'."),
        ("tab", "a\tb.zip", "A TAB in the name.", "control character", "'contains the control character'."),
        ("c0", "a\x01\x1fb.zip", "U+0001 and U+001F in the name.", "control character",
         "'contains the control character'."),
        ("del", "a\x7fb.zip", "DEL (U+007F) in the name.", "control character", "'contains the control character'."),
        ("c1", "a\x85b.zip", "A C1 control character (U+0085, next line) in the name.", "control character",
         "'contains the control character'."),
        ("256-bytes", "x" * 252 + ".zip", "A name of 256 ASCII bytes.", "256 bytes", "'is 256 bytes long'."),
        ("256-bytes-unicode", "\u00e9" * 126 + ".zip", "A name of 130 characters but 256 bytes in UTF-8.", "256 bytes",
         "'is 256 bytes long'."),
    )
]

GOOD_NAMES = [
    Row("name-%s" % name_id, "file names", case,
        "Works: uploaded under exactly that name (URL-encoded in every path), deployable, and a rerun changes nothing.",
        "good_name", {"name": name})
    for name_id, name, case in (
        ("spaces", "my motion model.zip", "Spaces in the name."),
        ("unicode", "mod\u00e8le-\u00e9 \u2713 \u65e5\u672c.zip", "Unicode in the name (accents, a check mark, CJK)."),
        ("percent", "%2e%2e%2fx.zip", "Percent-escapes in the name ('%2e%2e%2f' is not '../')."),
        ("url-syntax", "q?x#y&z=1;+.zip", "URL syntax characters in the name (? # & = ; +)."),
        ("255-bytes", "x" * 251 + ".zip", "A name of exactly 255 bytes."),
    )
]

LEM_URLS = [
    Row("lem-url-%s" % url_id, "lem_url", case, expected + " Refused before anything is sent.", "bad_lem_url",
        {"url": url, "words": words})
    for url_id, url, case, words, expected in (
        ("no-scheme", "lem.example.com", "No scheme.", "is not a URL of LEM", "Says to give https://host[:port]."),
        ("host-port", "{host}", "host:port without a scheme.", "is not a URL of LEM", "Says to give https://host[:port]."),
        ("other-scheme", "ftp://{host}", "Another scheme (ftp://).", "is not a URL of LEM", "Says to give https://host[:port]."),
        ("no-host", "https://", "A scheme without a host.", "is not a URL of LEM", "Says to give https://host[:port]."),
        ("path", "https://{host}/lem", "A path.", "has a path or query", "Says to give only the base URL."),
        ("api-path", "https://{host}/api/v1", "The API path.", "has a path or query", "Says to give only the base URL."),
        ("query", "https://{host}/?project=1", "A query.", "has a path or query", "Says to give only the base URL."),
        ("credentials", "https://admin:s3cret@{host}", "user:password@ in it.", "must not carry credentials",
         "Says to give the token as lem_token; the password is not repeated."),
        ("token-as-user", "https://{token}@{host}", "The API token as the URL's user name.", "must not carry credentials",
         "Says to give the token as lem_token; the token is not repeated."),
        ("bad-port", "https://{hostname}:99999", "A port out of range.", "invalid port", "Says the port is invalid."),
    )
] + [
    Row("lem-url-http", "lem_url", "http:// (a LEM without TLS).",
        "Works, with a warning that the token travels in clear text.", "plain_http"),
]

TOKENS = [
    Row("token-%s" % kind, "lem_token", case, expected, "token", {"kind": kind})
    for kind, case, expected in (
        ("wrong", "A token LEM never issued.",
         "401 explained: the token is invalid or expired, where to create one; the token is not repeated."),
        ("empty", "An empty token.", "Refused before anything is sent: lem_token is empty."),
        ("blank", "A token of spaces.", "Refused before anything is sent: lem_token is empty."),
        ("readonly", "A read-only token: upload, delete and deploy (reads work).",
         "Each write fails with the 403 sentence (the token lacks write access to the project, METHOD and path); "
         "nothing is changed; reads work."),
        ("other-project", "A token for another project.", "403 explained: the token lacks read access to this project."),
        ("newline", "A token with a line break and a forged header after it.",
         "Refused before anything is sent; no header is forged and the token is not repeated."),
        ("non-ascii", "A token with a character outside ASCII.",
         "Refused before anything is sent, saying why; never a traceback."),
    )
]

DEVICES = [
    Row("devices-%s" % kind, "devices", case, expected, "devices", {"kind": kind})
    for kind, case, expected in (
        ("ambiguous", "A hostname shared by two devices.",
         "Fails listing both candidates and saying to use a device id; nothing deployed."),
        ("unknown", "A name that matches no device.", "Fails listing the devices of the project; nothing deployed."),
        ("duplicates", "One device given by id, hostname, pretty name and id again.",
         "Deduplicated: one subtask, one entry in the result."),
        ("all-and-names", "'all' together with a device name.", "Refused: use either [all] or a list; nothing deployed."),
        ("empty-name", "An empty device name.", "Refused: devices holds an empty name; nothing deployed."),
        ("info-ambiguous", "lem_model_info with a hostname shared by two devices.", "Fails listing both candidates."),
    )
]

PATHS = [
    Row("project-id-traversal", "values in URL paths", "project_id '../../x'.",
        "URL-encoded as one path segment: LEM's 404 is explained (check project_id); no other path is reached.",
        "path_injection", {"kind": "project_id"}),
    Row("task-id-traversal", "values in URL paths", "task_id '../../file/x/list' with gather: [task].",
        "URL-encoded as one path segment: 'LEM has no task', no other endpoint is reached.",
        "path_injection", {"kind": "task_id"}),
]

ECHOES = [
    Row("storage-echoes-signed-url", "secrets in answers", "The storage's error body quotes the signed URL.",
        "The message quotes the storage's words with the URL's query cut off: no signature.",
        "echoed_secret", {"kind": "storage"}),
    Row("lem-echoes-token", "secrets in answers", "LEM's (or a proxy's) error body quotes the Authorization header.",
        "The message quotes it with the token and its Basic form replaced by ********.",
        "echoed_secret", {"kind": "lem"}),
    Row("redirect", "secrets in answers", "LEM answers an API call with 302.",
        "Never followed (the token goes nowhere else): fails saying API calls are not redirected, check lem_url.",
        "echoed_secret", {"kind": "redirect"}),
]

PLAYBOOKS = (
    ("cases.yml", "tests/integration/playbooks/cases.yml"),
    ("deploy.yml", "tests/integration/playbooks/deploy.yml"),
    ("file.yml", "tests/integration/playbooks/file.yml"),
    ("info.yml", "tests/integration/playbooks/info.yml"),
    ("lacking_model.yml", "tests/integration/playbooks/lacking_model.yml"),
    ("module_defaults.yml", "tests/integration/playbooks/module_defaults.yml"),
    ("role.yml", "tests/integration/playbooks/role.yml"),
    ("rollout.yml", "playbooks/rollout.yml"),
    ("report.yml", "playbooks/report.yml"),
    ("remove_staged.yml", "playbooks/remove_staged.yml"),
)

SWEEP = [
    Row("secrets-%s" % name.replace(".yml", "").replace("_", "-"), "secrets at -vvv", "%s at -vvv." % path,
        "The token, its Basic form and every X-Amz-Signature issued appear nowhere in the output or the results; "
        "the storage received neither the token nor its Basic form.", "secret_sweep", {"playbook": path})
    for name, path in PLAYBOOKS
] + [
    Row("secrets-failing-upload", "secrets at -vvv", "tests/integration/playbooks/file.yml at -vvv, the storage refusing "
        "the PUT with a body that quotes a signature.",
        "Fails with the storage's sentence; no token, Basic form or signature in the output or the results.",
        "secret_sweep", {"playbook": "tests/integration/playbooks/file.yml", "failing": True}),
]

ABUSE = BAD_NAMES + GOOD_NAMES + LEM_URLS + TOKENS + DEVICES + PATHS + ECHOES + SWEEP

MATRICES = (("fault", FAULTS), ("abuse", ABUSE))

# ---- what the matrices found -----------------------------------------------------------------------------------

FIXES = (
    ("A list answer whose elements are not objects (file list, device list, model list, subtasks)",
     "Unexpected failure in ... (AttributeError: 'int' object has no attribute 'get'). This is a bug in litmus.lem; ...",
     "LEM's answer to the staged file list (page 0) holds an element that is not an object (got 1): check that "
     "lem_url (...) points at Litmus Edge Manager.",
     "odd-elements-not-objects, odd-devices-not-objects, odd-models-not-objects, odd-subtasks-not-objects"),
    ("A device record without deviceId in Get Models",
     "Unexpected failure in ... (KeyError: 'deviceId'). This is a bug in litmus.lem; ...",
     "The record is left out (it cannot be deployed to); the real devices are resolved and deployed.",
     "odd-device-without-id"),
    ("A page without pagesCount",
     "Read as the only page: later pages were silently left out.",
     "Followed by totalSize; without either count: '... has neither pagesCount nor totalSize, so the collection "
     "cannot tell whether it read every page.'",
     "odd-page-without-pagescount, odd-page-without-counts"),
    ("Subtasks without 'done'",
     "Waited for until wait_timeout, then TIMEOUT: '... did not finish in time (SUCCESS)'.",
     "A final status (SUCCESS, FAILED) without 'done' counts as finished; the run reports SUCCESS.",
     "odd-subtasks-without-done"),
    ("Subtasks that name none of the devices deployed to",
     "status SUCCESS and no failure, with every device in failed_devices: a silent half-rollout.",
     "status FAILED, and the failure sentence names each device: 'LEM reports no subtask for this device'.",
     "odd-subtasks-without-device"),
    ("A deletion answered 200 that did not delete (here a proxy's HTML page)",
     "changed: true, the file reported deleted while LEM still lists it.",
     "'LEM answered the deletion of NAME without an error, but still lists it: the deletion did not take ...'",
     "not-json-file_delete"),
    ("A deployment request answered 200 with a body that is not JSON",
     "'LEM answered the deployment request (...) with something that is not JSON (...): check that lem_url ...', "
     "without saying that the deployment may have started.",
     "'... with something that is not JSON (...), so it may have acted on it: ... It was not sent again, so as not to "
     "deploy twice. Check with litmus.lem.lem_model_info (gather: [history] or [devices]) ...'",
     "not-json-deploy"),
    ("A token with a line break or a character outside ASCII",
     "Unexpected failure in ... (ValueError: Invalid header value b'<the token>\\r\\nX-Evil: forged') -- the token "
     "in the message -- or (UnicodeEncodeError: 'latin-1' codec can't encode ...).",
     "'lem_token holds a line break, a control character, a character outside ASCII or spaces at either end, which "
     "an HTTP header cannot carry: ...' -- nothing sent, the token not repeated.",
     "token-newline, token-non-ascii"),
    ("A C1 control character (U+0080 to U+009F) in a file name",
     "Accepted and sent.",
     "'The file name ... contains the control character ...: remove it.' -- refused before anything is sent.",
     "name-c1"),
    ("A storage PUT that keeps failing",
     "'The storage refused the upload of NAME ... with 503 Service Unavailable (S3 error code ...)': no attempts.",
     "'... with 503 Service Unavailable after 2 attempts (S3 error code ...)'.",
     "storage_put-429-persistent, storage_put-502-persistent, storage_put-503-persistent, storage_put-504-persistent"),
    ("A storage host that stops resolving when it is lem_url's own host",
     "'... LEM signs upload URLs with the host localhost, which this controller cannot resolve: set "
     "upload_via_lem_url: true ...' (which cannot help).",
     "'... check that the storage of LEM is reachable from the controller, then run again.'",
     "dns-put_object"),
)
