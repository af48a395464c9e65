// The staker's actions, each validated against the chain BEFORE any wallet request (the rules of
// VVVStaking and of vvv/staker/transactions.py), then simulated (a revert is shown in words and
// nothing is sent), then sent through the wallet and followed to its receipt.
import { encodeFunctionData, parseEventLogs, parseSignature, type Abi, type TransactionReceipt } from "viem";
import { abis } from "virtual:abis";
import { AmountError, exactVvv as vvv, parseAmount, short, utc } from "./amounts";
import type { Address } from "./api";
import type { Reader } from "./chain";
import type { Market, Position } from "./market";
import { customErrorText } from "./errors";
import { EIP712_DOMAIN, walletErrorText, type Eip1193 } from "./wallets";

export const PERMIT_LIFETIME = 3_600; // a permit signed for a stake is valid for an hour

/** What a confirmed transaction did, shown (text) and exact (title). */
export interface Said {
  text: string;
  exact: string;
}

export interface TxLine {
  pending(hash: string): void;
  confirmed(hash: string, what?: Said): void;
  failed(reason: string, hash?: string): void;
  note(text: string): void;
}

export interface Ctx {
  reader: Reader;
  provider: Eip1193;
  account: Address;
  position: Position;
  market: Market;
  chainNow(): number;
  line(label: string): TxLine;
}

export class CheckError extends Error {}

const fail = (message: string): never => {
  throw new CheckError(message);
};

function amountOf(text: string): bigint {
  try {
    return parseAmount(text);
  } catch (err) {
    throw new CheckError((err as AmountError).message);
  }
}

function notPaused(m: Market, what: string): void {
  if (m.paused) fail(`staking is paused by the guardian: ${what} is not possible now`);
}

export function checkStake(text: string, p: Position, m: Market): bigint {
  const amount = amountOf(text);
  notPaused(m, "staking");
  if (p.wallet < amount) fail(`insufficient balance: the wallet holds ${vvv(p.wallet)}, the stake needs ${vvv(amount)}`);
  const after = p.staked + amount;
  if (after < m.minStake) fail(`the stake would be ${vvv(after)}, below the minimum stake of ${vvv(m.minStake)}`);
  return amount;
}

export function checkUnstake(text: string, p: Position, m: Market): bigint {
  const amount = amountOf(text);
  notPaused(m, "unstaking");
  if (amount > p.staked) fail(`insufficient stake: ${vvv(p.staked)} staked, asked to unstake ${vvv(amount)}`);
  if (amount < p.staked && (amount < m.minStake || p.staked - amount < m.minStake)) {
    fail(
      `a partial unstake must be at least ${vvv(m.minStake)} and leave at least ${vvv(m.minStake)} staked ` +
        `(or unstake all ${vvv(p.staked)})`,
    );
  }
  return amount;
}

export function checkRequest(id: bigint, p: Position, now: number, withdraw: boolean): void {
  const request = p.pending.find((r) => r.id === id);
  if (!request) fail(`request ${id} is not a pending request of ${p.account}`);
  if (withdraw && now < request!.unlockTime) {
    fail(`request ${id} is not matured: it unlocks at ${utc(request!.unlockTime)}`);
  }
}

/** As the CLI: refused when nothing is earned and nothing is streaming to the account. */
export function checkRewards(p: Position, m: Market, earnedNow: bigint, now: number, what: "claim" | "restake"): void {
  if (what === "restake") notPaused(m, "restaking");
  const streaming = p.staked > 0n && m.rateScaled > 0n && now < m.rewardsEnd;
  if (earnedNow === 0n && !streaming) fail(`nothing to ${what}: no rewards earned`);
}

/** Simulate, send through the wallet, wait for the receipt. The receipt when it was mined and
 * succeeded, else null. `said(receipt)` adds what the transaction did to its log line. */
/** What a staking call writes more when its checkpoints fall in a new second: a lock (a mint)
 * appends to four histories (the account's and the total free and locked stake), each a fresh
 * slot (22,100 gas) instead of a rewrite of the latest (5,000). Unused gas is not paid for. */
const FRESH_SLOTS_GAS = 4n * (22_100n - 5_000n);

async function send(
  ctx: Ctx,
  label: string,
  which: "token" | "staking" | "rights",
  functionName: string,
  args: unknown[],
  said?: (receipt: TransactionReceipt) => Said | undefined,
): Promise<TransactionReceipt | null> {
  const line = ctx.line(label);
  const to = ctx.reader.config.contracts[which]!;
  const data = encodeFunctionData({ abi: abis[which] as Abi, functionName, args });
  const client = ctx.reader.client;
  let gas: bigint;
  try {
    // the node's estimate alone can fall short (an out-of-gas revert on anvil): a 25 % margin,
    // plus FRESH_SLOTS_GAS (an estimate made in the second of the account's last checkpoint
    // rewrites it, 5,000 gas a slot; mined in a later second, the call writes fresh slots instead)
    [, gas] = await Promise.all([
      client.call({ account: ctx.account, to, data, blockTag: "pending" }),
      client.estimateGas({ account: ctx.account, to, data }),
    ]);
    gas = (gas * 125n) / 100n + FRESH_SLOTS_GAS;
  } catch (err) {
    line.failed(`the transaction would revert: ${customErrorText(err) ?? walletErrorText(err)}; nothing was sent`);
    return null;
  }
  let hash: `0x${string}`;
  try {
    hash = await ctx.provider.request({ method: "eth_sendTransaction", params: [{ from: ctx.account, to, data, gas: "0x" + gas.toString(16) }] });
  } catch (err) {
    line.failed(`${customErrorText(err) ?? walletErrorText(err)}; nothing was sent`);
    return null;
  }
  line.pending(hash);
  try {
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status === "success") {
      line.confirmed(hash, said?.(receipt));
      return receipt;
    }
    const why = await client
      .call({ account: ctx.account, to, data, blockNumber: receipt.blockNumber - 1n })
      .then(() => null)
      .catch(customErrorText);
    line.failed(`reverted on chain${why ? ": " + why : ""}`, hash);
  } catch (err) {
    line.failed(`no receipt (${walletErrorText(err)}): check the transaction before retrying`, hash);
  }
  return null;
}

/** "claimed 1.2345 VVV": the amount of the staking contract's `eventName` in the receipt. */
function rewardsSaid(eventName: "RewardsClaimed" | "RewardsRestaked", verb: string) {
  return (receipt: TransactionReceipt) => {
    const [log] = parseEventLogs({ abi: abis.staking as Abi, eventName, logs: receipt.logs }) as any[];
    if (!log) return undefined;
    const amount = BigInt(log.args.amount);
    return { text: `${verb} ${short(amount)} VVV`, exact: `${verb} ${vvv(amount)}` };
  };
}

/** Stake with a permit (eth_signTypedData_v4) when the allowance is short and the wallet signs
 * typed data; else approve, then stake. True when the stake went through. */
export async function stake(ctx: Ctx, amount: bigint): Promise<boolean> {
  const { reader, account, position } = ctx;
  const staking = reader.config.contracts.staking;
  if (position.allowance >= amount) {
    return (await send(ctx, `Stake ${vvv(amount)}`, "staking", "stake", [amount])) !== null;
  }
  const deadline = BigInt(Math.floor(ctx.chainNow()) + PERMIT_LIFETIME);
  const [[, name, version, chainId, verifyingContract], nonce] = await Promise.all([
    reader.call<any[]>("token", "eip712Domain"),
    reader.call<bigint>("token", "nonces", [account]),
  ]);
  const typed = {
    types: {
      EIP712Domain: EIP712_DOMAIN,
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    domain: { name, version, chainId: Number(chainId), verifyingContract },
    message: { owner: account, spender: staking, value: String(amount), nonce: String(nonce), deadline: String(deadline) },
  };
  let signature: `0x${string}` | null = null;
  const permitLine = ctx.line(`Permit for ${vvv(amount)}`);
  permitLine.note("asking the wallet to sign a permit");
  try {
    signature = await ctx.provider.request({ method: "eth_signTypedData_v4", params: [account, JSON.stringify(typed)] });
    permitLine.note("signed");
  } catch (err: any) {
    if (err?.code === 4001) {
      permitLine.failed("you declined the permit signature; nothing was sent");
      return false;
    }
    permitLine.note(`not signed (${walletErrorText(err)}): approving, then staking`);
  }
  if (signature) {
    const sig = parseSignature(signature);
    const v = sig.v ?? BigInt(27 + (sig.yParity ?? 0));
    const args = [amount, deadline, Number(v), sig.r, sig.s];
    return (await send(ctx, `Stake ${vvv(amount)} with a permit`, "staking", "stakeWithPermit", args)) !== null;
  }
  if (await send(ctx, `Approve ${vvv(amount)}`, "token", "approve", [staking, amount])) {
    return (await send(ctx, `Stake ${vvv(amount)}`, "staking", "stake", [amount])) !== null;
  }
  return false;
}

export const unstake = (ctx: Ctx, amount: bigint) =>
  send(ctx, `Unstake ${vvv(amount)}`, "staking", "requestUnstake", [amount]);
export const cancel = (ctx: Ctx, id: bigint) => send(ctx, `Cancel request ${id}`, "staking", "cancelUnstake", [id]);
export const withdraw = (ctx: Ctx, id: bigint) => send(ctx, `Withdraw request ${id}`, "staking", "withdraw", [id]);
export const claim = (ctx: Ctx) =>
  send(ctx, "Claim rewards", "staking", "claimRewards", [], rewardsSaid("RewardsClaimed", "claimed"));
export const restake = (ctx: Ctx) =>
  send(ctx, "Restake rewards", "staking", "restakeRewards", [], rewardsSaid("RewardsRestaked", "restaked"));

// ------------------------------------------------------------------ compute rights

/** A leaf and its path in the report of the epoch before (EpochOracle.LeafProof). */
export interface Leaf {
  account: Address;
  stake: bigint;
  position: bigint;
  siblings: { hash: `0x${string}`; sum: bigint }[];
}

/** "locked 12.5 VVV": the amount of ComputeRights' `eventName` event in the receipt. */
function rightsSaid(eventName: "RightsMinted" | "RightsRepaid", field: "locked" | "unlocked") {
  return (receipt: TransactionReceipt) => {
    const [log] = parseEventLogs({ abi: abis.rights as Abi, eventName, logs: receipt.logs }) as any[];
    if (!log) return undefined;
    const amount = BigInt(log.args[field]);
    return { text: `${field} ${short(amount)} VVV`, exact: `${field} ${vvv(amount)}` };
  };
}

const vcr = (wei: bigint) => vvv(wei).replace(/ VVV$/, " VCR");

/** Mint `rights`, locking at most `maxLock` (the quote shown: the contract refuses a higher price). */
export const mintRights = (ctx: Ctx, rights: bigint, maxLock: bigint, leaf: Leaf) =>
  send(ctx, `Mint ${vcr(rights)}`, "rights", "mint", [rights, maxLock, leaf], rightsSaid("RightsMinted", "locked"));
export const repayRights = (ctx: Ctx, rights: bigint) =>
  send(ctx, `Repay ${vcr(rights)}`, "rights", "repay", [rights], rightsSaid("RightsRepaid", "unlocked"));
export const activateRights = (ctx: Ctx, rights: bigint, account: Address) =>
  send(ctx, `Activate ${vcr(rights)} for ${account}`, "rights", "activate", [rights, account]);
export const deactivateRights = (ctx: Ctx, rights: bigint, account: Address) =>
  send(ctx, `Deactivate ${vcr(rights)} for ${account}`, "rights", "deactivate", [rights, account]);
export const reclaimRights = (ctx: Ctx) => send(ctx, "Reclaim rights", "rights", "reclaim", []);
