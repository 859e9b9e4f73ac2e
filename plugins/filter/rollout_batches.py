# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_batches
short_description: Cut a list of devices into rollout batches, the way a play's serial does
version_added: 0.1.0
author:
  - Litmus LEM collection maintainers (@litmus-lem)
description:
  - Cuts a list into consecutive batches whose sizes follow O(sizes), with the semantics of a play's C(serial).
  - Each size is an int or a percentage string such as V(10%) of the whole list, rounded down but at least 1;
    the last size is repeated until the list is used up; a size of 0 takes all that remain.
  - An empty O(sizes) gives one batch with every item.
  - The role P(litmus.lem.model_rollout#role) uses it for its progressive rollout.
options:
  _input:
    description: The items to cut, for example device ids in rollout order.
    type: list
    elements: raw
    required: true
  sizes:
    description: Batch sizes, each an int or a percentage string.
    type: list
    elements: raw
    required: true
"""

EXAMPLES = r"""
- name: One canary, then 10 %, then the rest in batches of 50 %
  ansible.builtin.debug:
    msg: "{{ device_ids | litmus.lem.rollout_batches([1, '10%', '50%']) }}"
"""

RETURN = r"""
_value:
  description: The batches, in order; each is a non-empty list of items.
  type: list
  elements: list
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.litmus.lem.plugins.module_utils._models import InputError, rollout_batches


def _rollout_batches(items, sizes):
    try:
        return rollout_batches(items, sizes)
    except InputError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"rollout_batches": _rollout_batches}
