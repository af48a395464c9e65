// Reads from the chain (viem over the server's RPC URL, JSON-RPC batches): the account's
// position and today's market, as vvv/staker/positions.py and vvv/staker/market.py read them.
import { createPublicClient, http, type Abi, type PublicClient } from "viem";
import { abis } from "virtual:abis";
import type { Address, Config } from "./api";
import { EPOCH, poolOf, type Market, type Position } from "./market";
import { allotmentSource } from "./source";

const BPS = 10_000n;
const STATUS_PENDING = 1;
const STATUS_REJECTED = 3;
const STATUS_FINAL = 2;

export type Client = PublicClient;

export function makeClient(config: Config): Client {
  return createPublicClient({ transport: http(config.rpcUrl, { batch: { wait: 0 }, retryCount: 1 }) }) as Client;
}

export class Reader {
  constructor(
    public client: Client,
    public config: Config,
  ) {}

  call<T = any>(which: keyof typeof abis, functionName: string, args: unknown[] = []): Promise<T> {
    return this.client.readContract({
      address: this.config.contracts[which]!,
      abi: abis[which] as Abi,
      functionName,
      args,
      blockTag: "pending",
    }) as Promise<T>;
  }

  async now(): Promise<number> {
    const block = await this.client.getBlock({ blockTag: "pending" }).catch(() => this.client.getBlock());
    return Number(block.timestamp);
  }

  async requestIds(account: Address): Promise<bigint[]> {
    const logs = await this.client.getContractEvents({
      address: this.config.contracts.staking,
      abi: abis.staking as Abi,
      eventName: "UnstakeRequested",
      args: { account },
      fromBlock: BigInt(Number(this.config.deployment?.block ?? 0)),
      toBlock: "latest",
    });
    const ids = new Set(logs.map((log: any) => BigInt(log.args.requestId)));
    return [...ids].sort((a, b) => (a < b ? -1 : 1));
  }

  async position(account: Address): Promise<Position> {
    const s = this.config.contracts.staking;
    const [now, wallet, allowance, staked, freeStake, earned, ids] = await Promise.all([
      this.now(),
      this.call<bigint>("token", "balanceOf", [account]),
      this.call<bigint>("token", "allowance", [account, s]),
      this.call<bigint>("staking", "stakeOf", [account]),
      this.call<bigint>("staking", "freeStakeOf", [account]),
      this.call<bigint>("staking", "earned", [account]),
      this.requestIds(account),
    ]);
    const readAt = performance.now();
    const requests = await Promise.all(ids.map((id) => this.call<any[]>("staking", "unstakeRequest", [id])));
    const pending = requests
      .map(([owner, amount, unlockTime, settled], i) => ({ owner, amount, unlockTime: Number(unlockTime), settled, id: ids[i] }))
      .filter((r) => !r.settled && r.owner.toLowerCase() === account.toLowerCase())
      .map(({ id, amount, unlockTime }) => ({ id, amount, unlockTime }));
    return { account, now, readAt, wallet, allowance, staked, freeStake, earned, pending };
  }

  async market(): Promise<Market> {
    const now = await this.now();
    const epoch = Math.floor(now / EPOCH);
    const snapshot = BigInt((epoch - 1 + 1) * EPOCH - 1);
    const [report, fallbackCapacity, allStake, next, first, totalStaked, rewardedStake, rateScaled, rewardsEnd, paused, minStake, emission, rights] =
      await Promise.all([
        this.call<any[]>("oracle", "report", [BigInt(epoch - 1)]),
        this.call<bigint>("oracle", "fallbackCapacity", [BigInt(epoch)]),
        this.call<bigint>("staking", "totalFreeStakedAt", [snapshot]), // the fallback's total: free stake
        this.call<bigint>("oracle", "nextEpochToReport"),
        this.call<bigint>("oracle", "firstEpoch"),
        this.call<bigint>("staking", "totalStaked"),
        this.call<bigint>("staking", "totalFreeStaked"), // the rewards' weight: locked stake earns none
        this.call<bigint>("staking", "rewardRateScaled"),
        this.call<bigint>("staking", "rewardsEnd"),
        this.call<boolean>("staking", "paused"),
        this.call<bigint>("staking", "MIN_STAKE"),
        this.call<bigint>("emissions", "epochEmission"),
        this.call<Address>("oracle", "rights"), // the ComputeRights whose activations the allotments count
      ]);
    const valid = (status: unknown) => [STATUS_PENDING, STATUS_FINAL].includes(Number(status));
    const [record, deadline, rightsToday] = await Promise.all([
      this.call<any[]>("oracle", "reportRecord", [BigInt(epoch - 1)]),
      this.call<bigint>("oracle", "reportDeadlineOf", [BigInt(epoch)]),
      BigInt(rights) === 0n
        ? 0n
        : (this.client.readContract({
            address: rights,
            abi: abis.rights as Abi,
            functionName: "totalActivatedAt",
            args: [BigInt(epoch)],
            blockTag: "pending",
          }) as Promise<bigint>),
    ]);
    const source = allotmentSource(
      {
        epoch,
        firstEpoch: Number(first),
        postedAt: Number(report[5]),
        version: Number(record[0]),
        rejected: Number(report[7]) === STATUS_REJECTED,
        deadline: Number(deadline),
      },
      now,
    );
    const fromReport = source === "report";
    // the newest report that is pending or final (a rejected one says nothing), within a week
    const newest = Number(next) - 1;
    const candidates: number[] = [];
    for (let e = newest; e >= Math.max(Number(first), newest - 7); e--) candidates.push(e);
    const reports = await Promise.all(candidates.map((e) => this.call<any[]>("oracle", "report", [BigInt(e)])));
    const found = reports.findIndex((r) => valid(r[7]));
    let lastUtilizationBps: number | null = null;
    let stakersBps: bigint | null = null;
    let stakersDaily: bigint | null = null;
    if (found >= 0) {
      lastUtilizationBps = Number(reports[found][0]);
      stakersBps = await this.call<bigint>("emissions", "stakerShareBps", [BigInt(lastUtilizationBps)]);
      stakersDaily = (emission * stakersBps) / BPS;
    }
    const capacity: bigint = fromReport ? report[1] : fallbackCapacity;
    return {
      now,
      epoch,
      capacity,
      rightsToday,
      pool: poolOf(capacity, rightsToday),
      source,
      sourceKnownAt: epoch * EPOCH + Number(deadline),
      reportRoot: fromReport ? report[2] : null,
      activeCount: fromReport ? report[4] : 0n,
      activeStake: fromReport ? report[3] : allStake,
      allStake,
      totalStaked,
      rewardedStake,
      rateScaled,
      rewardsEnd: Number(rewardsEnd),
      paused,
      minStake,
      lastReportedEpoch: found >= 0 ? candidates[found] : null,
      lastUtilizationBps,
      stakersBps,
      stakersDaily,
    };
  }
}

/** The rights panel's reads: the account's position, wallet and activations, and today's mint
 * market (ComputeRights, its oracle report and the staking contract's free stake). */
export interface RightsState {
  rightsCap: bigint;
  quota: bigint;
  paused: boolean;
  outstanding: bigint; // totalSupply
  rightsAtStart: bigint;
  mintedToday: bigint;
  minCapacity: bigint;
  final: boolean; // the report of epoch - 1
  reportCapacity: bigint;
  reportActiveStake: bigint;
  totalFreeStaked: bigint; // at the report's snapshot
  minted: bigint; // the account's position
  locked: bigint;
  balance: bigint; // VCR in the wallet
  freeStake: bigint;
  mintedAgainst: bigint; // minted against today's report
  activeToday: bigint; // activated to the account, today
  activeTomorrow: bigint;
  reclaimReady: bigint;
  reclaimPending: bigint;
  reclaimFrom: number;
  activations: { account: Address; rights: bigint }[]; // by the account, to each account, now
}

export async function readRights(reader: Reader, account: Address, epoch: number): Promise<RightsState> {
  const e = BigInt(epoch);
  const [rcap, quota, paused, outstanding, today, bounds, final, report, free, position, balance, freeStake, against, a0, a1, rec, logs] =
    await Promise.all([
      reader.call<bigint>("rights", "RCAP"),
      reader.call<bigint>("rights", "QUOTA"),
      reader.call<boolean>("rights", "paused"),
      reader.call<bigint>("rights", "totalSupply"),
      reader.call<[bigint, bigint]>("rights", "today"),
      reader.call<[bigint, bigint, bigint]>("oracle", "capacityBounds"),
      reader.call<boolean>("oracle", "isFinal", [e - 1n]),
      reader.call<any[]>("oracle", "report", [e - 1n]),
      reader.call<bigint>("staking", "totalFreeStakedAt", [e * BigInt(EPOCH) - 1n]),
      reader.call<[bigint, bigint]>("rights", "positionOf", [account]),
      reader.call<bigint>("rights", "balanceOf", [account]),
      reader.call<bigint>("staking", "freeStakeOf", [account]),
      reader.call<bigint>("rights", "mintedInEpoch", [account, e]),
      reader.call<bigint>("rights", "activatedAt", [account, e]),
      reader.call<bigint>("rights", "activatedAt", [account, e + 1n]),
      reader.call<[bigint, bigint, bigint]>("rights", "reclaimable", [account]),
      reader.client.getContractEvents({
        address: reader.config.contracts.rights!,
        abi: abis.rights as Abi,
        eventName: "RightsActivated",
        args: { caller: account },
        fromBlock: BigInt(Number(reader.config.deployment?.block ?? 0)),
        toBlock: "latest",
      }),
    ]);
  const targets = [...new Set(logs.map((log: any) => String(log.args.account) as Address))];
  const amounts = await Promise.all(targets.map((t) => reader.call<bigint>("rights", "activatedBy", [account, t])));
  return {
    rightsCap: rcap,
    quota,
    paused,
    outstanding,
    rightsAtStart: today[0],
    mintedToday: today[1],
    minCapacity: bounds[0],
    final,
    reportCapacity: report[1],
    reportActiveStake: report[3],
    totalFreeStaked: free,
    minted: position[0],
    locked: position[1],
    balance,
    freeStake,
    mintedAgainst: against,
    activeToday: a0,
    activeTomorrow: a1,
    reclaimReady: rec[0],
    reclaimPending: rec[1],
    reclaimFrom: Number(rec[2]),
    activations: targets.map((t, i) => ({ account: t, rights: amounts[i] })).filter((a) => a.rights > 0n),
  };
}
