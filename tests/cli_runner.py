"""The command-line runners of the tests: a deployed system with its deployment record, a
runner that invokes `ape run staker ...` in this process (ape's CLI on the session's chain),
and, for what only a real process shows (stdout, the network option, a node's chain id),
`ape run ...` in its own process against a chain started by `make chain`."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from ape import networks
from click.testing import CliRunner

from tests.passes import ANVIL, only_in
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

    def __init__(self, reports: Path, usage_file: Path) -> None:
        self.reports = reports
        self.usage_file = usage_file
        self.usage_db = f"sqlite:///{usage_file}"

    def __call__(self, *args: str):
        """`status` reads this test's reports folder, and its usage store once the test made one
        (`status` refuses a store that does not exist)."""
        args = list(map(str, args))
        if args[:1] == ["rights"] and args[1] in ("quote", "mint", "status"):  # they read the proofs files
            args += ["--reports-dir", str(self.reports)]
        elif args[0] == "status":
            args += ["--reports-dir", str(self.reports)]
            if self.usage_file.exists() and "--usage-db" not in args:
                args += ["--usage-db", self.usage_db]
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
def staker_cli(deployments, tmp_path, monkeypatch):
    monkeypatch.delenv("VVV_USAGE_DB", raising=False)  # the store is the test's, or none
    return Staker(tmp_path / "reports", tmp_path / "usage.db")


# ------------------------------------------------------------------ `ape run` in its own process

APE = Path(sys.executable).parent / "ape"


def once_per_suite_run() -> None:
    """A test that runs `ape run` in processes of its own, on chains of its own, does not use
    the session's chain: it runs once, in the anvil pass of `make test`."""
    only_in(ANVIL)  # tests/passes.py


def ape_run(*args: Any, deployments: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """`ape run ARGS` as a user runs it, with the deployment records in `deployments`."""
    return subprocess.run(
        [str(APE), "run", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env=os.environ | {"VVV_DEPLOYMENTS_DIR": str(deployments)},
    )  # fmt: skip


def json_output(result: subprocess.CompletedProcess) -> dict:
    """The whole stdout of a successful `--json` run, parsed: nothing else may be on it."""
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """A command that failed cleanly: exit code 1, nothing on stdout, and one line on stderr,
    the error (no traceback, no log lines)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(uri: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call to a node, independent of ape."""
    answer = requests.post(uri, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30)
    return answer.json()["result"]


class Process:
    """A long-running command in its own process group (make -> node -> anvil), stopped as
    Ctrl-C stops it: SIGINT to the whole group."""

    def __init__(self, argv: list[str], uri: str, log: Path) -> None:
        self.argv, self.uri, self.log = argv, uri, log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                rpc(self.uri, "eth_chainId")
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"{self.argv} did not answer on {self.uri}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=60)
        self.process = None


def stop_group(process: subprocess.Popen, timeout: float) -> None:
    """Ctrl-C to a process started in a session of its own (and its children); SIGKILL when it
    has not stopped within `timeout` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class LocalChain(Process):
    """`make chain` on a free port, its state and log in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = free_port(), folder
        super().__init__(["make", "--no-print-directory", "chain", f"CHAIN_PORT={self.port}", f"CHAIN_DIR={folder}"],
                         f"http://127.0.0.1:{self.port}", folder.parent / "make-chain.log")  # fmt: skip

    @property
    def network(self) -> str:
        """The `--network` of ethereum:local:node at this chain's URI."""
        return f"ethereum:local:{self.uri}"


def plain_anvil(folder: Path, *args: str) -> Process:
    """anvil with its own defaults (chain id 31337) on a free port."""
    port = free_port()
    argv = [str(ROOT / "node_modules" / ".bin" / "anvil"), "--port", str(port), *args]
    return Process(argv, f"http://127.0.0.1:{port}", folder / "anvil.log")


@pytest.fixture
def local_chain(tmp_path):
    """`make chain` on a free port, stopped after the test."""
    node = LocalChain(tmp_path / "chain").start()
    yield node
    node.stop()
