"""The module's upload code without Ansible: one LemClient.put_object of a file to a pre-signed URL, with or without
the sha256 folded into the send, so that the benchmark can tell what the send path costs from what the hash and
Ansible add.

    python -m tests.benchmarks.send_path URL FILE [--sha256]

The connection comes from the LEM_* environment variables, as the modules take it; the collection is imported
from PYTHONPATH (the benchmark points it at a directory holding ansible_collections/litmus/lem).
"""

import argparse
import hashlib
import os
import sys

from ansible_collections.litmus.lem.plugins.module_utils._client import LemClient, UploadBody


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.send_path", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("url", help="a pre-signed upload URL")
    parser.add_argument("file")
    parser.add_argument("--sha256", action="store_true", help="fold the sha256 into the send, as lem_model_file does for a new file")
    args = parser.parse_args(argv)
    client = LemClient(os.environ["LEM_URL"], os.environ["LEM_API_TOKEN"], os.environ["LEM_PROJECT_ID"],
                       ca_path=os.environ.get("LEM_CA_PATH") or None)
    with open(args.file, "rb") as handle:
        body = UploadBody(handle, os.fstat(handle.fileno()).st_size, hasher_factory=hashlib.sha256 if args.sha256 else None)
        client.put_object(args.url, body, upload_timeout=600)
    if body.hasher is not None:
        print(body.hasher.hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
