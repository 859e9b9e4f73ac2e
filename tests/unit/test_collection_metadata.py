"""The collection's metadata keeps up with its plugins."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def modules():
    return sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def test_every_module_is_in_the_lem_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert modules(), "no modules found"
    assert sorted(runtime["action_groups"]["lem"]) == modules()


def test_requires_ansible_and_galaxy_identity():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert runtime["requires_ansible"] == ">=2.16.0"
    assert (galaxy["namespace"], galaxy["name"]) == ("litmus", "lem")
    assert galaxy["license"] == ["GPL-3.0-or-later"]


def test_execution_environment_names_the_python_requirements():
    ee = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    requirements = (ROOT / ee["dependencies"]["python"]).read_text()
    assert any(line.startswith("requests") for line in requirements.splitlines())
