"""The command-line runner of the tests: a deployed system with its deployment record, and a
runner that invokes `ape run staker ...` in this process (ape's CLI on the session's chain)."""

import importlib.util
import json
from pathlib import Path

import pytest
from ape import networks
from click.testing import CliRunner

from vvv.chain.deployment import network_name

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"vvv_script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


@pytest.fixture
def deployments(system, tmp_path, monkeypatch):
    """The record `ape run deploy` would have written, in a folder of this test."""
    folder = tmp_path / "deployments"
    folder.mkdir()
    (folder / f"{network_name()}.json").write_text(json.dumps(system.record))
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(folder))
    return folder


def invoke_script(name: str, *args: str):
    """`ape run NAME ARGS` in this process, on the session's connected provider (as `--network`
    would select it: a second instance of the same network would connect, and its disconnect
    breaks the test isolation of ape's in-process chain)."""
    runner = CliRunner(mix_stderr=False)  # stdout: the output (JSON); stderr: progress and errors
    return runner.invoke(_load_script(name), list(args), obj={"provider": networks.provider}, catch_exceptions=False)


class Staker:
    """Runs `ape run staker ARGS` on this session's chain and returns the result."""

    def __init__(self, reports: Path, usage_db: str) -> None:
        self.reports = reports
        self.usage_db = usage_db

    def __call__(self, *args: str):
        args = list(map(str, args))
        if args[0] == "status":
            args += ["--reports-dir", str(self.reports), "--usage-db", self.usage_db]
        return invoke_script("staker", *args)

    def json(self, *args: str) -> dict:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output + result.stderr
        return json.loads(result.stdout)

    def error(self, *args: str) -> str:
        """Run a command that must fail cleanly: exit code 1, one error line, no traceback."""
        result = self(*args)
        assert result.exit_code == 1, result.output + result.stderr
        assert "Traceback" not in result.output + result.stderr
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1  # one line
        return result.stderr


@pytest.fixture
def staker_cli(deployments, tmp_path):
    return Staker(tmp_path / "reports", f"sqlite:///{tmp_path / 'usage.db'}")
