"""`ape run staker COMMAND ...`: the staker's command line.

    ape run staker stake 100 --account me --network base:mainnet:node
    ape run staker unstake 25.5 --account me
    ape run staker cancel 7 --account me
    ape run staker withdraw [REQUEST_ID ...] --account me   # all matured ones when none given
    ape run staker claim --account me
    ape run staker restake --account me
    ape run staker status [ADDRESS] [--account me] [--usage-db URL]   # the spend: the gateway's store
    ape run staker receipts ADDRESS --usage-db URL [--from-epoch N] [--to-epoch N] [--export receipts.jsonl]
    ape run staker calc --vvv 1000
    ape run staker calc --workload llama-3.3-70b:2000:1500:400 --workload flux-dev:50
    ape run staker keys create --account me --gateway URL --label my-agent [--daily-cap 500] [--monthly-cap 9000]
        [--lifetime-cap 50000] [--rpm 60] [--models llama-3.3-70b,flux] [--expires 30d]
    ape run staker keys list --account me --gateway URL
    ape run staker keys revoke KEY --account me --gateway URL   # KEY: its hash (0x...) or its secret
    ape run staker rights quote 10 [--account me]      # VVV locked for 10 VCR now, or why not
    ape run staker rights mint 10 --account me [--max-lock 12.5]
    ape run staker rights repay 4 --account me
    ape run staker rights activate 6 --account me [--for 0xAGENT]   # 1 VCU a day each, from tomorrow
    ape run staker rights deactivate 6 --account me [--for 0xAGENT]
    ape run staker rights reclaim --account me
    ape run staker rights status [ADDRESS] [--account me]

Amounts are VVV with up to 18 decimals. Every command takes --json (one JSON object on stdout)
and --wei (every amount, given or shown, in integer wei: `stake 5 --wei` stakes 5 wei). A
mistake gets a one-line error and nothing is sent."""

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from ape import convert
from ape.api import AccountAPI
from ape.cli import account_option, verbosity_option
from ape.exceptions import ContractLogicError, ConversionError
from ape.types import AddressType
from rich.console import Console
from sqlalchemy.exc import ArgumentError

from vvv.chain.apikeys import ApiKeyError
from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, load_system
from vvv.chain.permit import PermitRefused
from vvv.chain.units import AmountError, parse_amount
from vvv.oracle.pricing import DEFAULT_PRICES, PricingError, load_prices
from vvv.oracle.proofs import ProofsError
from vvv.oracle.usage import UsageError
from vvv.staker import keys as api_keys
from vvv.staker import rights, rights_render
from vvv.staker import transactions as staker
from vvv.staker.calc import CalcError, Task, allotment, stake_needed, what_it_buys
from vvv.staker.market import read_market
from vvv.staker.receipts import (
    ReceiptsError,
    check_export,
    epoch_range,
    export_receipts,
    read_receipts,
    receipts_data,
    show_receipts,
)
from vvv.staker.render import (
    Amounts,
    calc_forward_data,
    emit_json,
    outcome_data,
    show_calc_forward,
    show_calc_reverse,
    show_outcome,
    show_status,
    status_data,
)
from vvv.staker.status import USAGE_DB_VARIABLE, read_status

# "-1" is an amount to reject with a clear message, not an unknown option
COMMAND = {"cls": ChainCommand, "context_settings": {"ignore_unknown_options": True}}
ERRORS = (staker.StakerError, staker.SendError, DeploymentError, ProofsError, CalcError, PricingError, PermitRefused,
          AmountError, UsageError, ArgumentError, ReceiptsError, api_keys.KeysClientError, ApiKeyError)  # fmt: skip


def output_options(command: Callable) -> Callable:
    command = verbosity_option()(command)  # ape's log (on stderr) at -v LEVEL; default WARNING
    command = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)
    return click.option("--wei", is_flag=True, help="Amounts given and shown in integer wei, not VVV.")(command)


def clear_errors(command: Callable) -> Callable:
    """Turn every expected failure into one line on stderr and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ERRORS as err:
            fail(str(err))
        except ContractLogicError as err:  # sending is handled in vvv.staker.transactions: this is a view call
            fail(f"a call to the chain reverted ({type(err).__name__}: {err}); nothing was sent")

    return wrapper


def amount_of(text: str, wei: bool) -> int:
    """An amount given on the command line: VVV, or integer wei with --wei."""
    try:
        return parse_amount(text, allow_zero=False, wei=wei)
    except AmountError as err:
        raise AmountError(f"amount {err}") from None


def report(outcome: staker.Outcome, as_json: bool, wei: bool) -> None:
    fmt = Amounts(wei)
    if as_json:
        emit_json(outcome_data(outcome, fmt))
    else:
        show_outcome(outcome, fmt, Console())


@click.group()
def cli() -> None:
    """Stake VVV, manage unstake requests and rewards, see your position and VCU."""


@cli.command(**COMMAND)
@account_option()
@click.argument("amount")
@click.option("--no-permit", is_flag=True, help="Never sign a permit: the allowance must cover the amount.")
@output_options
@clear_errors
def stake(account: AccountAPI, amount: str, no_permit: bool, as_json: bool, wei: bool) -> None:
    """Stake AMOUNT VVV (wei with --wei; signs a permit when the allowance is short)."""
    report(staker.stake(load_system(), account, amount_of(amount, wei), use_permit=not no_permit), as_json, wei)


@cli.command(**COMMAND)
@account_option()
@click.argument("amount")
@output_options
@clear_errors
def unstake(account: AccountAPI, amount: str, as_json: bool, wei: bool) -> None:
    """Ask to unstake AMOUNT VVV (wei with --wei; withdrawable 7 days later)."""
    report(staker.unstake(load_system(), account, amount_of(amount, wei)), as_json, wei)


@cli.command(**COMMAND)
@account_option()
@click.argument("request_id", type=int)
@output_options
@clear_errors
def cancel(account: AccountAPI, request_id: int, as_json: bool, wei: bool) -> None:
    """Put pending unstake request REQUEST_ID back into the stake."""
    report(staker.cancel(load_system(), account, request_id), as_json, wei)


@cli.command(**COMMAND)
@account_option()
@click.argument("request_ids", nargs=-1, type=int)
@output_options
@clear_errors
def withdraw(account: AccountAPI, request_ids: tuple[int, ...], as_json: bool, wei: bool) -> None:
    """Withdraw matured unstake requests (all of them when no REQUEST_ID is given)."""
    report(staker.withdraw(load_system(), account, list(request_ids)), as_json, wei)


@cli.command(**COMMAND)
@account_option()
@output_options
@clear_errors
def claim(account: AccountAPI, as_json: bool, wei: bool) -> None:
    """Pay everything earned so far to the wallet."""
    report(staker.claim(load_system(), account), as_json, wei)


@cli.command(**COMMAND)
@account_option()
@output_options
@clear_errors
def restake(account: AccountAPI, as_json: bool, wei: bool) -> None:
    """Add everything earned so far to the stake."""
    report(staker.restake(load_system(), account), as_json, wei)


@cli.command(**COMMAND)
@account_option(prompt=False)
@click.argument("address", required=False)
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option(
    "--usage-db",
    envvar=USAGE_DB_VARIABLE,
    help=f"SQLAlchemy URL of the gateway's usage store (default: ${USAGE_DB_VARIABLE}; none: the spend is unknown).",
)
@output_options
@clear_errors
def status(
    account: AccountAPI | None, address: str | None, reports_dir: Path, usage_db: str | None, as_json: bool, wei: bool
) -> None:
    """Position of ADDRESS (default: --account): stake, requests, rewards, APR, today's VCU."""
    who = address or account
    if who is None:
        fail("give an ADDRESS or --account")
    if address is not None:
        try:
            who = convert(address, AddressType)
        except ConversionError:
            fail(f"not an address: {address!r}")
    data = read_status(load_system(), who, reports_dir, usage_db)
    if as_json:
        emit_json(status_data(data, Amounts(wei)))
    else:
        show_status(data, Amounts(wei), Console())


@cli.command(**COMMAND)
@click.argument("address")
@click.option("--usage-db", envvar=USAGE_DB_VARIABLE, help=f"The gateway's usage store (or ${USAGE_DB_VARIABLE}).")
@click.option("--from-epoch", type=click.IntRange(min=0), help="First epoch (default: the first).")
@click.option("--to-epoch", type=click.IntRange(min=0), help="Last epoch (default: the last).")
@click.option("--export", type=click.Path(path_type=Path), help="Write the receipts to this file as JSONL.")
@verbosity_option()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clear_errors
def receipts(
    address: str, usage_db: str | None, from_epoch: int | None, to_epoch: int | None, export: Path | None, as_json: bool
) -> None:
    """ADDRESS's activity receipts in the usage store: epoch, signer, signature, whether the
    signer holds ACTIVITY_SIGNER_ROLE now; --export writes them for an omission challenge."""
    try:
        who = convert(address, AddressType)
    except ConversionError:
        fail(f"not an address: {address!r}")
    if not usage_db:  # no default: a ./usage.db that happens to be here may be another store
        fail(f"give the gateway's usage store: --usage-db URL (or {USAGE_DB_VARIABLE})")
    start, end = epoch_range(from_epoch, to_epoch)
    if export is not None:
        check_export(export)
    found = read_receipts(load_system(), who, usage_db, start, end)
    if export is not None:
        export_receipts(found, export)
    if as_json:
        emit_json(receipts_data(who, found, export))
    else:
        show_receipts(who, found, export, Console())


@cli.command(**COMMAND)
@click.option("--vvv", "stake_text", help="A stake in VVV (wei with --wei): the VCU it yields a day, what that buys.")
@click.option("--workload", multiple=True, help="MODEL:REQUESTS:AVG_IN:AVG_OUT (chat) or MODEL:IMAGES, per day.")
@click.option("--input-tokens", default=1_000, show_default=True, help="Average input tokens of a request.")
@click.option("--output-tokens", default=500, show_default=True, help="Average output tokens of a request.")
@click.option("--prices", type=click.Path(path_type=Path), default=DEFAULT_PRICES, show_default=True)
@output_options
@clear_errors
def calc(
    stake_text: str | None,
    workload: tuple[str, ...],
    input_tokens: int,
    output_tokens: int,
    prices: Path,
    as_json: bool,
    wei: bool,
) -> None:
    """VCU calculator: --vvv AMOUNT (forward) and/or --workload ... (the stake a workload needs)."""
    if not stake_text and not workload:
        fail("give --vvv AMOUNT, or one or more --workload")
    if min(input_tokens, output_tokens) < 0:
        fail("--input-tokens and --output-tokens must be >= 0")
    system, table, fmt = load_system(), load_prices(prices), Amounts(wei)
    market = read_market(system)
    unit = "wei" if wei else "VVV"
    data: dict[str, Any] = {"epoch": market.epoch, "capacity": fmt(market.capacity), "pool": fmt(market.pool),
                            "source": market.source, "active_stake": fmt(market.active_stake),
                            "all_stake": fmt(market.all_stake)}  # fmt: skip
    if stake_text:
        amount = amount_of(stake_text, wei)
        active = allotment(amount, market.pool, market.active_stake)
        everyone = allotment(amount, market.pool, market.all_stake)
        buys = what_it_buys(active, table, input_tokens, output_tokens)
        data["forward"] = calc_forward_data(amount, active, everyone, buys, fmt)
    if workload:
        tasks = [Task.parse(text, table) for text in workload]
        vcu = sum(task.cost(table) for task in tasks)
        minimum = system.staking.MIN_STAKE()
        data["reverse"] = {
            "workload": list(workload),
            "daily_vcu": fmt(vcu),
            "stake_needed_active": fmt(stake_needed(vcu, market.pool, market.active_stake, minimum)),
            "stake_needed_if_all_active": fmt(stake_needed(vcu, market.pool, market.all_stake, minimum)),
        }
    if as_json:
        emit_json(data)
        return
    console = Console()
    vcu = "VCU wei" if wei else "VCU"
    rights = "" if market.pool == market.capacity else f", {data['pool']} {vcu} of it after today's compute rights,"
    console.print(f"epoch {data['epoch']}: capacity {data['capacity']} {vcu}{rights} shared by {data['active_stake']} "
                  f"{unit} of active stake ({data['source']}); {data['all_stake']} {unit} staked in all")  # fmt: skip
    if "forward" in data:
        show_calc_forward(data["forward"], (input_tokens, output_tokens), unit, console)
    if "reverse" in data:
        show_calc_reverse(data["reverse"], unit, console)


# ------------------------------------------------------------------ API keys of the gateway

gateway_option = click.option("--gateway", envvar="VVV_GATEWAY", help="The gateway's URL (default: $VVV_GATEWAY).")


class KeysCommand(ChainCommand):
    """A bad option value (an alias ape does not know: `--account nosuch`) is one error line,
    not click's usage message."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.BadParameter as err:
            raise click.ClickException(err.format_message()) from None


KEYS_COMMAND = {**COMMAND, "cls": KeysCommand}


@cli.group()
def keys() -> None:
    """API keys of the gateway, each request signed by the staking wallet (--account)."""


@keys.command("create", **KEYS_COMMAND)
@account_option()
@gateway_option
@click.option("--label", required=True, help="A name for the key (1 to 64 printable characters).")
@click.option("--daily-cap", help="VCU a day the key may spend (VCU wei with --wei). Default: no cap of its own.")
@click.option("--monthly-cap", help="VCU a UTC calendar month the key may spend (VCU wei with --wei). Default: none.")
@click.option("--lifetime-cap", help="VCU the key may spend in its whole life (VCU wei with --wei). Default: none.")
@click.option("--rpm", help="Requests a minute the key may make. Default: no limit.")
@click.option("--models", help="The models the key may call, separated by commas. Default: every model.")
@click.option("--expires", help="30d, 12h, 90m, a UTC date or time (2027-01-31T12:00) or unix seconds. Default: never.")
@output_options
@clear_errors
def keys_create(
    account: AccountAPI,
    gateway: str | None,
    label: str,
    daily_cap: str | None,
    monthly_cap: str | None,
    lifetime_cap: str | None,
    rpm: str | None,
    models: str | None,
    expires: str | None,
    as_json: bool,
    wei: bool,
) -> None:
    """Create an API key; its secret is printed this once (the gateway keeps only its hash)."""
    now, fmt = api_keys.chain_now(), Amounts(wei)
    cap = api_keys.parse_cap(daily_cap, wei)
    limits = api_keys.Limits(
        api_keys.parse_cap(monthly_cap, wei, "--monthly-cap"),
        api_keys.parse_cap(lifetime_cap, wei, "--lifetime-cap"),
        api_keys.parse_rate(rpm),
        api_keys.parse_models(models),
    )
    expiry = api_keys.parse_expiry(expires, now)
    created = api_keys.create_key(load_system(), api_keys.Gateway.at(gateway), account, label, cap, expiry, now,
                                  limits)  # fmt: skip
    if as_json:
        emit_json(api_keys.created_data(created, fmt, now))
    else:
        api_keys.show_created(created, fmt, Console())


@keys.command("list", **KEYS_COMMAND)
@account_option()
@gateway_option
@output_options
@clear_errors
def keys_list(account: AccountAPI, gateway: str | None, as_json: bool, wei: bool) -> None:
    """The account's API keys (revoked and expired ones too)."""
    now, fmt, client = api_keys.chain_now(), Amounts(wei), api_keys.Gateway.at(gateway)
    found = api_keys.list_keys(load_system(), client, account, now)
    who = str(account.address).lower()
    if as_json:
        emit_json(api_keys.keys_data(who, found, fmt, now))
    else:
        api_keys.show_keys(who, found, fmt, now, Console())


@keys.command("revoke", **KEYS_COMMAND)
@account_option()
@gateway_option
@click.argument("key")
@output_options
@clear_errors
def keys_revoke(account: AccountAPI, gateway: str | None, key: str, as_json: bool, wei: bool) -> None:
    """Revoke API key KEY (its hash 0x..., or its secret) for good."""
    now, hash_, client = api_keys.chain_now(), api_keys.parse_key(key), api_keys.Gateway.at(gateway)
    revoked = api_keys.revoke_key(load_system(), client, account, hash_, now)
    if as_json:
        emit_json(api_keys.revoked_data(revoked, Amounts(wei), now))
    else:
        api_keys.show_revoked(revoked, Console())


# ------------------------------------------------------------------ compute rights (VCR)

reports_dir_option = click.option(
    "--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
    help="Where the oracle's proofs files are: a mint proves your leaf in yesterday's report.",
)  # fmt: skip


def address_of(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return str(convert(text, AddressType))
    except ConversionError:
        fail(f"{option}: not an address: {text!r}")


def rights_report(outcome: staker.Outcome, as_json: bool, wei: bool) -> None:
    if as_json:
        emit_json(rights_render.outcome_data(outcome, Amounts(wei)))
    else:
        rights_render.show_outcome(outcome, Amounts(wei), Console())


@cli.group("rights")
def rights_group() -> None:
    """Compute rights (VCR): lock free stake for VCU a day you keep, give or trade."""


@rights_group.command("quote", **KEYS_COMMAND)
@account_option(prompt=False)
@click.argument("amount")
@reports_dir_option
@output_options
@clear_errors
def rights_quote(account: AccountAPI | None, amount: str, reports_dir: Path, as_json: bool, wei: bool) -> None:
    """The VVV that minting AMOUNT VCR locks now, or why no mint is possible (with --account: its
    allowance left today and free stake too)."""
    n = amount_of(amount, wei)
    q = rights.quote(load_system(), None if account is None else account.address, n, reports_dir)
    if as_json:
        emit_json(rights_render.quote_data(q, Amounts(wei)))
    else:
        rights_render.show_quote(q, Amounts(wei), Console())


@rights_group.command("mint", **KEYS_COMMAND)
@account_option()
@click.argument("amount")
@click.option("--max-lock", help="The most VVV to lock (wei with --wei). Default: the quote now, no slippage.")
@reports_dir_option
@output_options
@clear_errors
def rights_mint(
    account: AccountAPI, amount: str, max_lock: str | None, reports_dir: Path, as_json: bool, wei: bool
) -> None:
    """Mint AMOUNT VCR, locking their price in VVV of your free stake."""
    n = amount_of(amount, wei)
    limit = None if max_lock is None else amount_of(max_lock, wei)
    rights_report(rights.mint(load_system(), account, n, limit, reports_dir), as_json, wei)


@rights_group.command("repay", **KEYS_COMMAND)
@account_option()
@click.argument("amount")
@output_options
@clear_errors
def rights_repay(account: AccountAPI, amount: str, as_json: bool, wei: bool) -> None:
    """Burn AMOUNT VCR of your position and unlock its share of the locked stake."""
    rights_report(rights.repay(load_system(), account, amount_of(amount, wei)), as_json, wei)


@rights_group.command("activate", **KEYS_COMMAND)
@account_option()
@click.argument("amount")
@click.option("--for", "for_", metavar="ADDRESS", help="The account the rights serve (default: --account).")
@output_options
@clear_errors
def rights_activate(account: AccountAPI, amount: str, for_: str | None, as_json: bool, wei: bool) -> None:
    """Activate AMOUNT VCR: 1 VCU a day each for ADDRESS, from tomorrow (00:00 UTC)."""
    n, who = amount_of(amount, wei), address_of(for_, "--for")
    rights_report(rights.activate(load_system(), account, n, who), as_json, wei)


@rights_group.command("deactivate", **KEYS_COMMAND)
@account_option()
@click.argument("amount")
@click.option("--for", "for_", metavar="ADDRESS", help="The account they were activated for (default: --account).")
@output_options
@clear_errors
def rights_deactivate(account: AccountAPI, amount: str, for_: str | None, as_json: bool, wei: bool) -> None:
    """End AMOUNT VCR of your activation for ADDRESS from tomorrow; reclaim them then."""
    n, who = amount_of(amount, wei), address_of(for_, "--for")
    rights_report(rights.deactivate(load_system(), account, n, who), as_json, wei)


@rights_group.command("reclaim", **KEYS_COMMAND)
@account_option()
@output_options
@clear_errors
def rights_reclaim(account: AccountAPI, as_json: bool, wei: bool) -> None:
    """Take back to the wallet the deactivated VCR whose epoch has started."""
    rights_report(rights.reclaim(load_system(), account), as_json, wei)


@rights_group.command("status", **KEYS_COMMAND)
@account_option(prompt=False)
@click.argument("address", required=False)
@reports_dir_option
@output_options
@clear_errors
def rights_status(account: AccountAPI | None, address: str | None, reports_dir: Path, as_json: bool, wei: bool) -> None:
    """Rights position of ADDRESS (default: --account): minted, locked, VCR held, activations,
    allowance left today, the VCU a day they yield."""
    who = address_of(address, "ADDRESS") or (None if account is None else account.address)
    if who is None:
        fail("give an ADDRESS or --account")
    st = rights.rights_status(load_system(), who, reports_dir)
    if as_json:
        emit_json(rights_render.status_data(st, Amounts(wei)))
    else:
        rights_render.show_status(st, Amounts(wei), Console())
