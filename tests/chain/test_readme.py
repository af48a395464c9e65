"""The README's shell block for a local chain ("Try it against a local chain"), run as written,
line by line in one bash, on a port of its own (`CHAIN_PORT`, the one variable the README says
moves the chain, ape's `ethereum:local:node` and cast together). It runs in a folder of its own
whose entries link to this project's (so `.chain/`, the usage store and the reports are its
own), once, in the anvil pass of `make test`."""

import contextlib
import os
import re
import signal
import subprocess
import time

import pytest

from tests.cli_runner import ROOT, free_port, once_per_suite_run

WRITTEN_BY_THE_BLOCK = {".chain", "deployments", "reports", "usage.db", ".git", ".dashboard", "demo-out"}


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_local_chain_block_runs_as_written(tmp_path):
    once_per_suite_run()
    block = readme_block("## Try it against a local chain")
    assert "cast rpc evm_increaseTime" in block and "export ETH_RPC_URL" in block
    work = tmp_path / "project"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in WRITTEN_BY_THE_BLOCK:
            (work / entry.name).symlink_to(entry)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CHAIN_PORT", "ETH_RPC_URL", "VIRTUAL_ENV")}
    env |= {"CHAIN_PORT": str(port), "VVV_DEPLOYMENTS_DIR": str(work / "deployments")}
    process = subprocess.Popen(
        ["bash", "-e", "-c", block], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # anvil, if `kill %1` left it
    assert process.returncode == 0, output
    # the chain was on the test's port, with its state in the folder's own .chain/
    assert f"anvil on http://127.0.0.1:{port}, chain id 1337" in output
    assert (work / ".chain" / "anvil-state.json").exists()
    assert (work / "deployments" / "ethereum-local-node.json").exists()
    # the deploy, the stake, then the oracle's report of the genesis day two days later; it came
    # after the next day's report deadline, so the second status shows that day on the fallback
    genesis = int(re.search(r"genesis epoch (\d+);", output).group(1))
    assert "staked 250 VVV" in output
    assert re.search(rf"epoch {genesis}: utilization 0 bps .*: posted", output), output
    assert f"VCU today (epoch {genesis + 1}, fallback)" in output


def test_the_use_your_vcu_block_runs_on_make_dashboard(tmp_path):
    """README "Use your VCU": the block for `make dashboard`, run as written in a second shell
    while tools/dashboard.sh (what `make dashboard` runs after its set-up) serves everything, on
    ports of its own (the `DASHBOARD_*` variables). About 4 minutes (the demo's two weeks first):
    only with VVV_README_DASHBOARD=1."""
    once_per_suite_run()
    if os.environ.get("VVV_README_DASHBOARD") != "1":
        pytest.skip("about 4 minutes: set VVV_README_DASHBOARD=1 to run it")
    text = (ROOT / "README.md").read_text()
    block = readme_block("**Try it locally.**")
    snippet = re.search(r"```python\n(.*?)```", text[text.index("**Try it locally.**") :], re.S).group(1)
    work = tmp_path / "project"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in WRITTEN_BY_THE_BLOCK:
            (work / entry.name).symlink_to(entry)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "OPENAI_", "VVV_", "APE_FOUNDRY"))}
    env.pop("VIRTUAL_ENV", None)
    for name in ("PORT", "CHAIN_PORT", "GATEWAY_PORT", "STANDIN_PORT"):
        env[f"DASHBOARD_{name}"] = str(free_port())
    log = (work / "dashboard.out").open("w")
    dashboard = subprocess.Popen(["tools/dashboard.sh"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while "dashboard on http://" not in (work / "dashboard.out").read_text():
            assert dashboard.poll() is None and time.monotonic() < deadline, (work / "dashboard.out").read_text()
            time.sleep(1)
        printed = (work / "dashboard.out").read_text()
        assert (work / ".dashboard" / "ask.py").read_text() == snippet  # the README's snippet, word for word
        assert f"export APE_FOUNDRY_HOST=http://127.0.0.1:{env['DASHBOARD_CHAIN_PORT']}" in printed
        shell = subprocess.run(["bash", "-e", "-c", block], cwd=work, env=env, capture_output=True, text=True,
                               timeout=600)  # fmt: skip
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dashboard.pid, signal.SIGINT)
        dashboard.wait(timeout=60)
        log.close()
    output = shell.stdout + shell.stderr
    assert shell.returncode == 0, output
    refused, served = [line for line in shell.stdout.splitlines() if line.startswith("402 ")], shell.stdout
    assert len(refused) == 1 and "you are now API-active; your allotment starts at 00:00 UTC" in refused[0], output
    assert "This is the VVV stand-in upstream, not a model" in served and "charged 0.0000462 VCU, request gw-" in served
    assert re.search(r"spent\s+│\s+0\.0000462 ", served), output
