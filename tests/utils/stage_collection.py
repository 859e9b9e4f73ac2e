"""Copy the collection to DEST/ansible_collections/litmus/lem, without venvs, caches and build output.

ansible-test wants the collection under that path and resolves symbolic
links, so a link will not do: this makes a real copy.

usage: stage_collection.py DEST
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = {".venv", ".git", "build", ".cache", ".pytest_cache", "__pycache__", ".ansible", ".tox"}


def ignore(directory, names):
    here = Path(directory)
    return [name for name in names
            if name in LEFT_OUT or name.endswith((".pyc", ".tar.gz"))
            or (here == ROOT / "tests" and name == "output")]


def main():
    target = Path(sys.argv[1]).resolve() / "ansible_collections" / "litmus" / "lem"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=False)
    print(target)


if __name__ == "__main__":
    main()
