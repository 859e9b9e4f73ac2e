"""The execution environment of extensions/ee/: ansible-builder writes a build context that installs this
collection from its tarball and, through the collection's own metadata, its Python requirements.

No container engine is needed: `ansible-builder create` writes the context, and the two steps of the image
build that concern the collection (the galaxy install and ansible-builder's introspection) run here on it.
"""

import json
import shutil
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EE_DIR = ROOT / "extensions" / "ee"
BIN = Path(sys.executable).parent


def run(command, **kwargs):
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120, check=False,
                          **kwargs)
    assert done.returncode == 0, "%s failed:\n%s\n%s" % (command, done.stdout, done.stderr)
    return done


def tarball_name():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    return "%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"])


def definition():
    return yaml.safe_load((EE_DIR / "execution-environment.yml").read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection built beside a copy of the EE definition, as its README says, and the context created."""
    work = tmp_path_factory.mktemp("ee")
    ee_dir = work / "ee"
    shutil.copytree(EE_DIR, ee_dir, ignore=shutil.ignore_patterns("*.tar.gz"))
    run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", ee_dir, ROOT])
    run([BIN / "ansible-builder", "create", "-f", ee_dir / "execution-environment.yml", "--context", work / "context",
         "--output-filename", "Containerfile"], cwd=str(work))
    return work


def test_the_definition_is_version_3_with_the_tested_ansible_core_and_runner():
    ee = definition()
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"] == "quay.io/ansible/awx-ee:24.6.1"
    dependencies = ee["dependencies"]
    assert dependencies["ansible_core"] == {"package_pip": "ansible-core==%s" % version("ansible-core")}
    assert dependencies["ansible_runner"] == {"package_pip": "ansible-runner==%s" % version("ansible-runner")}
    # The Python requirements come from the collection (meta/execution-environment.yml), never listed twice.
    assert "python" not in dependencies and "system" not in dependencies


def test_the_collection_comes_from_the_tarball_of_the_version_in_galaxy_yml():
    ee = definition()
    assert ee["additional_build_files"] == [{"src": tarball_name(), "dest": "collections"}]
    assert ee["dependencies"]["galaxy"] == {"collections": [{"name": "collections/" + tarball_name(), "type": "file"}]}


def test_the_collection_names_its_python_requirements_for_ansible_builder():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt"}}


def test_create_writes_a_context_with_the_tarball_and_the_galaxy_requirements(built):
    build = built / "context" / "_build"
    assert (build / "collections" / tarball_name()).read_bytes() == (built / "ee" / tarball_name()).read_bytes()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == definition()["dependencies"]["galaxy"]
    assert not (build / "requirements.txt").exists()
    containerfile = (built / "context" / "Containerfile").read_text().splitlines()
    assert 'ARG EE_BASE_IMAGE="quay.io/ansible/awx-ee:24.6.1"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==%s"' % (
        version("ansible-core"), version("ansible-runner")) in containerfile
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    assert ('RUN ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS '
            '-r requirements.yml --collections-path "/usr/share/ansible/collections"') in containerfile
    assert any(line.startswith("RUN $PYCMD /output/scripts/introspect.py introspect ") for line in containerfile)


def test_the_build_installs_the_collection_and_requests(built):
    """The galaxy stage (in /build, the context's _build) and the builder stage's introspection, run on the context."""
    build = built / "context" / "_build"
    collections = built / "usr-share-ansible" / "collections"
    run([BIN / "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path", collections],
        cwd=str(build), env={"PATH": str(BIN), "HOME": str(built), "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "1"})
    installed = collections / "ansible_collections" / "litmus" / "lem"
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    manifest = json.loads((installed / "MANIFEST.json").read_text())["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("litmus", "lem", galaxy["version"])
    with tarfile.open(build / "collections" / tarball_name()) as tarball:
        assert "plugins/modules/lem_model_deploy.py" in tarball.getnames()
    assert (installed / "plugins" / "modules" / "lem_model_deploy.py").is_file()

    pip_file = built / "tmp-src" / "requirements.txt"
    run([sys.executable, build / "scripts" / "introspect.py", "introspect", "--write-bindep", built / "tmp-src" / "bindep.txt",
         "--write-pip", pip_file, collections])
    wanted = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert wanted and wanted[0].startswith("requests")
    assert pip_file.read_text().splitlines() == ["%s  # from collection litmus.lem" % line for line in wanted]
