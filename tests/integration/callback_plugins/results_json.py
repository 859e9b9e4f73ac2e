"""Writes every task result of a playbook run to the JSON file named by LEM_TEST_RESULTS.

The integration tests read it to assert on module results; the run's own
output stays the default callback's.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = []

    def _record(self, result, outcome):
        payload = getattr(result, "result", None)
        if payload is None:
            payload = result._result
        self.results.append({
            "task": result.task_name,
            "host": result.host.name if hasattr(result, "host") else result._host.get_name(),
            "outcome": outcome,
            "result": json.loads(json.dumps(dict(payload), default=str)),
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("LEM_TEST_RESULTS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.results, handle, indent=1)
