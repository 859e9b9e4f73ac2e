# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Finds lem_model_file's src on the controller, the way ansible.builtin.copy finds its src."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        args = dict(self._task.args)
        src = args.get("src")
        on_controller = not boolean(args.get("remote_src", False), strict=False)
        if not src or not on_controller or args.get("state", "present") != "present":
            return merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars))

        # The name on LEM comes from the path the user gave, not from where it was found or copied.
        args.setdefault("name", os.path.basename(src))
        try:
            found = self._find_needle("files", src)
        except AnsibleError as exc:
            raise AnsibleActionFail(
                "src %s was not found on the controller: give the path of the model file, relative to the role's or "
                "playbook's files/ directory or absolute, or set remote_src: true for a path on the host the module "
                "runs on. (%s)" % (src, to_text(exc)))

        if self._connection.transport == "local":
            args["src"] = found
            return merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars))

        # The module runs on another host: send the file there first, as copy does.
        if self._connection._shell.tmpdir is None:
            self._make_tmp_path()
        remote_src = self._connection._shell.join_path(self._connection._shell.tmpdir, "source")
        try:
            self._transfer_file(found, remote_src)
            self._fixup_perms2((self._connection._shell.tmpdir, remote_src))
            args["src"] = remote_src
            return merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
