"""`ape run oracle` as an operator runs it: ordinary mistakes (a mistyped store, the same file
imported twice, a dry run before the real one, a model missing from the price table, a bad
database URL, the wrong account, an outlier report) give one clear line and post nothing wrong.
Amounts in the usage files are worked by hand from data/prices.csv (flux-dev: 0.08 VCU/image)."""

import pytest
from ape import chain

from tests.cli_runner import invoke_script
from tests.helpers import DAY, E18, mine_at
from vvv.oracle.proofs import proofs_path

HEADER = "timestamp,account,model,input_tokens,output_tokens,images,vcu_cost,request_id\n"


def oracle_cli(*args):
    return invoke_script("oracle", "--account", "TEST::6", *map(str, args))


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture
def cli_world(world, deployments, tmp_path):
    """The world's store and reports folder as command-line options."""
    return ["--usage-db", str(world["store"].engine.url), "--reports-dir", str(world["reports"])]


@pytest.fixture
def carol_day(carol, g, tmp_path):
    """carol's calls on day g+2: 100,000 + 126,850 images at 0.08 VCU = 8,000 + 10,148 VCU,
    18,148 VCU in all: 10% of the capacity of 181,480 VCU."""
    path = tmp_path / "day.csv"
    t = (g + 2) * DAY
    path.write_text(
        HEADER
        + f"{t + 10},{carol.address},flux-dev,0,0,100000,8000,req-1\n"
        + f"{t + 20},{carol.address},flux-dev,0,0,126850,10148,req-2\n"
    )
    return path


def test_a_mistyped_usage_db_is_an_error_and_creates_nothing(system, oracle, world, deployments, tmp_path, g):
    mine_at((g + 1) * DAY + 300)
    nonce = oracle.nonce
    typo = tmp_path / "usgae.db"
    error = one_error_line(oracle_cli("--usage-db", f"sqlite:///{typo}", "--reports-dir", world["reports"]))
    assert "usgae.db" in error and "does not exist" in error and "--create-usage-db" in error
    assert not typo.exists()
    assert oracle.nonce == nonce and system.oracle.nextEpochToReport() == g
    assert not world["reports"].exists()


def test_dry_run_then_import_then_import_again(system, oracle, world, cli_world, carol_day, g):
    mine_at((g + 3) * DAY + 300)
    first = oracle_cli(*cli_world, "--until-epoch", g + 1)
    assert first.exit_code == 0, first.output + first.stderr
    nonce = oracle.nonce
    dry = oracle_cli(*cli_world, "--import", carol_day, "--dry-run")
    assert dry.exit_code == 0, dry.output + dry.stderr
    assert f"would import 2 new calls from {carol_day}" in dry.stdout
    assert f"epoch {g + 2}: utilization 1,000 bps (18,148 VCU of 181,480 VCU), 3 active stakers with 1,000 VVV" in (
        dry.stdout
    )
    assert "(dry run: nothing written or sent)" in dry.stdout
    assert world["store"].count() == 2 and oracle.nonce == nonce
    assert not proofs_path(chain.chain_id, g + 2, world["reports"]).exists()
    real = oracle_cli(*cli_world, "--import", carol_day)
    assert real.exit_code == 0, real.output + real.stderr
    assert f"imported 2 new calls from {carol_day}" in real.stdout
    report = system.oracle.report(g + 2)
    assert (report.utilizationBps, report.activeCount, report.totalActiveStake) == (1_000, 3, 1_000 * E18)
    again = oracle_cli(*cli_world, "--import", carol_day)
    assert again.exit_code == 0, again.output + again.stderr
    assert f"imported 0 new calls from {carol_day}; 2 already in the store (skipped)" in again.stdout
    assert "nothing to report: every closed epoch is reported" in again.stdout
    assert world["store"].count() == 4
    assert system.oracle.report(g + 2).utilizationBps == 1_000


def test_a_model_missing_from_the_price_table(system, oracle, carol, world, cli_world, tmp_path, g):
    mine_at((g + 3) * DAY + 300)
    bad = tmp_path / "day.csv"
    bad.write_text(HEADER + f"{(g + 2) * DAY},{carol.address},flux-dev,0,0,1,0.08,r1\n"
                   + f"{(g + 2) * DAY},{carol.address},gpt-9,10,10,0,1,r2\n")  # fmt: skip
    nonce = oracle.nonce
    result = oracle_cli(*cli_world, "--import", bad)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "day.csv:3:" in result.stderr and "gpt-9" in result.stderr
    assert world["store"].count() == 2 and oracle.nonce == nonce and system.oracle.nextEpochToReport() == g


def test_a_cost_that_disagrees_with_the_price_table(system, oracle, carol, world, cli_world, tmp_path, g):
    mine_at((g + 3) * DAY + 300)
    bad = tmp_path / "day.csv"
    bad.write_text(HEADER + f"{(g + 2) * DAY},{carol.address},flux-dev,0,0,10,0.9,r1\n")  # 10 images cost 0.8
    nonce = oracle.nonce
    result = oracle_cli(*cli_world, "--import", bad)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "day.csv:2:" in result.stderr and "0.9" in result.stderr and "0.8" in result.stderr
    assert world["store"].count() == 2 and oracle.nonce == nonce


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no-such-folder/usage.db",
        "not-a-database-url",
        "postgresql+psycopg://vvv@/usage?host={tmp}/no-server-here",
    ],
    ids=["missing folder", "garbage", "postgres not running"],
)
def test_a_bad_usage_db_url_is_one_line(system, oracle, world, deployments, tmp_path, g, url):
    mine_at((g + 1) * DAY + 300)
    nonce = oracle.nonce
    one_error_line(oracle_cli("--usage-db", url.format(tmp=tmp_path), "--reports-dir", world["reports"]))
    assert oracle.nonce == nonce and not world["reports"].exists()


def test_an_account_without_the_oracle_role(system, alice, world, cli_world, g):
    mine_at((g + 1) * DAY + 300)
    nonce = alice.nonce
    result = invoke_script("oracle", "--account", "TEST::1", *cli_world)
    error = one_error_line(result)
    assert f"{alice.address} does not hold ORACLE_ROLE" in error
    assert alice.nonce == nonce and not world["reports"].exists()


def test_an_outlier_is_refused_then_posted_when_allowed(system, oracle, world, cli_world, g):
    mine_at((g + 2) * DAY + 300)
    assert oracle_cli(*cli_world, "--until-epoch", g).exit_code == 0
    error = one_error_line(oracle_cli(*cli_world, "--max-utilization-change", 3_999))
    assert error.startswith(f"Error: epoch {g + 1}: sanity check: utilization moves 4,000 bps")
    assert system.oracle.nextEpochToReport() == g + 1
    allowed = oracle_cli(*cli_world, "--max-utilization-change", 3_999, "--allow-outlier")
    assert allowed.exit_code == 0, allowed.output + allowed.stderr
    assert system.oracle.nextEpochToReport() == g + 2


def test_a_dry_run_for_a_store_not_created_yet_creates_nothing(system, oracle, world, deployments, carol_day, g):
    mine_at((g + 3) * DAY + 300)
    new = carol_day.parent / "new.db"
    result = oracle_cli("--usage-db", f"sqlite:///{new}", "--create-usage-db", "--import", carol_day, "--dry-run",
                        "--reports-dir", world["reports"])  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert "does not exist yet: the dry run reads an empty one (nothing is created)" in result.stdout
    assert f"would import 2 new calls from {carol_day}" in result.stdout
    # only carol's calls: on day g+2 she is the one active staker with 600 VVV, at 10% utilization
    assert f"epoch {g + 2}: utilization 1,000 bps (18,148 VCU of 181,480 VCU), 1 active stakers with 600 VVV" in (
        result.stdout
    )
    assert not new.exists() and not world["reports"].exists()
    assert system.oracle.nextEpochToReport() == g
