"""pytest setup shared by every test: the collection importable as ansible_collections.litmus.lem."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _collections_root():
    """A directory holding ansible_collections/litmus/lem: the checkout's own parents, or a link made for the run.

    Imports and ansible-playbook follow the link; only ansible-test needs a real
    copy, which `make test` makes for it.
    """
    if ROOT.parent.name == "litmus" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    holder = Path(tempfile.mkdtemp(prefix="litmus-lem-collections-"))
    (holder / "ansible_collections" / "litmus").mkdir(parents=True)
    (holder / "ansible_collections" / "litmus" / "lem").symlink_to(ROOT)
    return holder


COLLECTIONS_ROOT = _collections_root()
sys.path.insert(0, str(COLLECTIONS_ROOT))
sys.path.insert(0, str(ROOT))
os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS_ROOT)
