"""Print the receipt gas of every budgeted operation (run against anvil by default).

    .venv/bin/python bench/gas.py [--network ethereum:local:foundry]

Receipt gas includes the 21,000 base and is after refunds. The same numbers are checked against
the budgets by tests/contracts/test_gas_budgets.py."""

import argparse
import sys

from ape import accounts, networks
from ape.logging import logger
from rich.console import Console
from rich.table import Table

from vvv.bench.gas import POST_REPORT_MAX_DIFFERENCE, GasRow, measure_rights, measure_staking, measure_system


def render(rows: list[GasRow], title: str) -> Table:
    table = Table(title=title)
    table.add_column("operation")
    table.add_column("receipt gas", justify="right")
    table.add_column("budget", justify="right")
    table.add_column("ok")
    for row in rows:
        budget = f"{row.budget:,}" if row.budget is not None else "-"
        table.add_row(row.operation, f"{row.gas_used:,}", budget, "yes" if row.within_budget else "NO")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="ethereum:local:foundry")
    args = parser.parse_args()
    logger.set_level("ERROR")
    with networks.parse_network_choice(args.network):
        staking_rows = measure_staking(list(accounts.test_accounts))
        system_rows = measure_system(list(accounts.test_accounts))
        rights_rows = measure_rights(list(accounts.test_accounts))
    console = Console()
    console.print(render(staking_rows, f"VVVStaking receipt gas on {args.network}"))
    console.print(render(system_rows, f"Emissions and oracle receipt gas on {args.network}"))
    console.print(render(rights_rows, f"ComputeRights and allotments with rights, receipt gas on {args.network}"))
    gas = {row.operation: row.gas_used for row in system_rows}
    growth = gas["postReport (1,000,000-leaf root)"] - gas["postReport (10-leaf root)"]
    console.print(
        f"postReport growth from 10 to 1,000,000 leaves: {growth} gas (calldata only; "
        f"allowed {POST_REPORT_MAX_DIFFERENCE})"
    )
    rows = staking_rows + system_rows + rights_rows
    return 0 if all(row.within_budget for row in rows) and abs(growth) <= POST_REPORT_MAX_DIFFERENCE else 1


if __name__ == "__main__":
    sys.exit(main())
