"""Print the receipt gas of every budgeted operation (run against anvil by default).

    .venv/bin/python bench/gas.py [--network ethereum:local:foundry]

Receipt gas includes the 21,000 base and is after refunds. The same numbers are checked against
the budgets by tests/contracts/test_gas_budgets.py."""

import argparse
import sys

from ape import accounts, networks
from rich.console import Console
from rich.table import Table

from vvv.gasprofile import GasRow, measure_staking


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
    with networks.parse_network_choice(args.network):
        rows = measure_staking(list(accounts.test_accounts))
    Console().print(render(rows, f"VVVStaking receipt gas on {args.network}"))
    return 0 if all(row.within_budget for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
