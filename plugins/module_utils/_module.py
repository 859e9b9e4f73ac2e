# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Internal to litmus.lem: the AnsibleModule side of every module.

This is not a public API; it may change in any release.

The connection options are declared here once (documented once in
doc_fragments/connection.py) and merged into each module's own options;
the client is built from them; a LemError becomes fail_json with its
sentence. A module only declares its options and decides.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.litmus.lem.plugins.module_utils._client import REQUESTS_IMPORT_ERROR, LemClient, LemError
from ansible_collections.litmus.lem.plugins.module_utils._models import InputError

CONNECTION_ARGUMENT_SPEC = dict(
    lem_url=dict(type="str", required=True, fallback=(env_fallback, ["LEM_URL"])),
    lem_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["LEM_API_TOKEN"])),
    auth_mode=dict(type="str", default="auto", choices=["auto", "basic", "header"],
                   fallback=(env_fallback, ["LEM_AUTH_MODE"])),
    project_id=dict(type="str", required=True, fallback=(env_fallback, ["LEM_PROJECT_ID"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["LEM_VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["LEM_CA_PATH"])),
    timeout=dict(type="float", default=30, fallback=(env_fallback, ["LEM_TIMEOUT"])),
    retries=dict(type="int", default=3),
)


def lem_argument_spec(module_options):
    """The module's own options with the connection options merged in."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


class LemModule(AnsibleModule):
    """An AnsibleModule that speaks to LEM: connection options, client, and failures as one sentence."""

    def __init__(self, argument_spec, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        super().__init__(argument_spec=lem_argument_spec(argument_spec), **kwargs)
        if REQUESTS_IMPORT_ERROR:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            params = self.params
            self._client = LemClient(
                params["lem_url"], params["lem_token"], params["project_id"], auth_mode=params["auth_mode"],
                validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
                retries=params["retries"])
        return self._client

    def run(self, decide):
        """exit_json with what ``decide(module, client)`` returns, or fail_json with the sentence of its failure."""
        try:
            result = decide(self, self.client)
        except (LemError, InputError) as exc:
            self._pass_warnings()
            details = dict(getattr(exc, "result", None) or {})
            details.setdefault("changed", False)
            self.fail_json(msg=str(exc), **details)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # An answer of a shape nobody foresaw must still end in a sentence, not a bare traceback.
            self._pass_warnings()
            detail = self._client.redact("%s: %s" % (type(exc).__name__, exc)) if self._client else type(exc).__name__
            self.fail_json(msg="Unexpected failure in %s (%s). This is a bug in litmus.lem; the traceback is in 'exception' "
                               "(shown with -vvv)." % (self._name, detail),
                           exception=self._client.redact(traceback.format_exc()) if self._client else None, changed=False)
        self._pass_warnings()
        self.exit_json(**result)

    def _pass_warnings(self):
        if self._client is not None:
            for warning in self._client.warnings:
                self.warn(warning)
            self._client.warnings = []
