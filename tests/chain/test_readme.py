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
