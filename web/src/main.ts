// The staking page: wallet, position, actions, today's VCU, the calculator and the protocol.
import "./style.css";
import * as actions from "./actions";
import { bpsText, exact, fixed, grouped, scaled, duration, utc, vcu, vvv, parseAmount, ONE } from "./amounts";
import { getConfig, getHistory, getPrices, getProof, getSpend, type Address, type Config, type ModelPrice, type Proof } from "./api";
import { allotment, stakeNeeded, taskCost, whatItBuys, type Task } from "./calc";
import { makeClient, readRights, Reader, type RightsState } from "./chain";
import { aprAtLastUtilization, aprNow, earnedAt, EPOCH, APR_PLACES, type Market, type Position } from "./market";
import { initKeys } from "./keys";
import * as rights from "./rights";
import { verifyProof } from "./sumtree.mjs";
import { customErrorText } from "./errors";
import { chainIdOf, discoverWallets, switchChain, walletErrorText, type Wallet } from "./wallets";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const STORE = "vvv.wallet";
const POLL_MS = 5_000;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

/** An APR (millionths of a percent) to two decimals, all six on hover. */
function showApr(id: string, micro: bigint | null, m: Market) {
  const el = $(id);
  if (micro === null) {
    el.textContent = m.totalStaked === 0n ? "– (nothing staked)" : "– (no free stake: locked stake earns no rewards)";
    el.removeAttribute("title");
    return;
  }
  el.textContent = bpsText(micro / 10_000n); // hundredths of a percent
  el.title = `${scaled(micro, APR_PLACES)} %`;
}


/** Shows `wei` floored to the displayed precision; the exact value is in the title and data-wei. */
function showAmount(id: string, wei: bigint | null, unit = "VVV") {
  const el = $(id);
  if (wei === null) {
    el.textContent = "–";
    el.removeAttribute("data-wei");
    el.removeAttribute("title");
    return;
  }
  el.textContent = unit === "VVV" ? vvv(wei) : unit === "VCU" ? vcu(wei) : `${vvv(wei).slice(0, -4)} ${unit}`;
  el.title = `${exact(wei)} ${unit}`;
  el.dataset.wei = String(wei);
}

const state: {
  config?: Config;
  reader?: Reader;
  wallets: Wallet[];
  wallet?: Wallet;
  accounts: Address[];
  account?: Address;
  walletChain?: number;
  position?: Position;
  market?: Market;
  prices: ModelPrice[];
  resetsAt?: number;
  rights?: RightsState;
  leaf?: actions.Leaf | null; // the account's leaf in the report of the epoch before, checked
  busy: boolean;
  shown: boolean;
} = { wallets: [], accounts: [], prices: [], busy: false, shown: false };

/** Chain time now: the last read's chain timestamp plus the time since. */
function chainNow(): number {
  const p = state.position ?? state.market;
  if (!p) return Date.now() / 1000;
  const readAt = (p as Position).readAt ?? marketReadAt;
  return p.now + (performance.now() - readAt) / 1000;
}
let marketReadAt = 0;

// ------------------------------------------------------------------ wallet

function renderWallet() {
  const buttons = $("wallet-buttons");
  buttons.replaceChildren();
  const stateLine = $("wallet-state");
  if (!state.wallet || !state.account) {
    stateLine.textContent = state.wallets.length ? "Not connected." : "No wallet found: install a browser wallet.";
    for (const w of state.wallets) {
      const b = h("button", { type: "button" }, `Connect ${w.name}`);
      b.addEventListener("click", () => connect(w, true));
      buttons.append(b);
    }
    return;
  }
  stateLine.textContent = `Connected with ${state.wallet.name}: ${state.account}`;
  if (state.accounts.length > 1) {
    const label = h("label", { for: "account-select" }, "Account");
    const select = h("select", { id: "account-select" });
    for (const a of state.accounts) select.append(h("option", { value: a }, a));
    select.value = state.account;
    select.addEventListener("change", () => {
      state.account = select.value as Address;
      localStorage.setItem(STORE + ".account", state.account);
      state.position = undefined;
      renderWallet();
      refresh();
    });
    buttons.append(label, select);
  }
  if (state.walletChain !== state.config!.chainId) {
    const b = h("button", { type: "button" }, `Switch the wallet to chain ${state.config!.chainId}`);
    b.addEventListener("click", async () => {
      try {
        await switchChain(state.wallet!.provider, state.config!);
        state.walletChain = await chainIdOf(state.wallet!.provider);
        $("wallet-error").textContent = "";
        renderWallet();
      } catch (err) {
        $("wallet-error").textContent = `could not switch: ${walletErrorText(err)}`;
      }
    });
    buttons.append(b);
    $("wallet-error").textContent =
      `The wallet is on chain ${state.walletChain}; this page's contracts are on chain ${state.config!.chainId} (${state.config!.network}).`;
  }
  const d = h("button", { type: "button" }, "Disconnect");
  d.addEventListener("click", disconnect);
  buttons.append(d);
}

function disconnect() {
  localStorage.removeItem(STORE);
  state.wallet = state.account = state.position = undefined;
  state.accounts = [];
  $("position-values").hidden = true;
  $("position-note").textContent = "Connect a wallet to see your position.";
  renderWallet();
}

async function connect(wallet: Wallet, prompt: boolean) {
  $("wallet-error").textContent = "";
  try {
    const accounts: Address[] = await wallet.provider.request({ method: prompt ? "eth_requestAccounts" : "eth_accounts" });
    if (!accounts?.length) {
      if (prompt) $("wallet-error").textContent = `${wallet.name} gave no account`;
      return;
    }
    state.wallet = wallet;
    state.accounts = accounts;
    const remembered = localStorage.getItem(STORE + ".account");
    state.account = accounts.find((a) => a.toLowerCase() === remembered?.toLowerCase()) ?? accounts[0];
    state.walletChain = await chainIdOf(wallet.provider);
    localStorage.setItem(STORE, wallet.id);
    wallet.provider.on?.("accountsChanged", (list: Address[]) => {
      if (!list?.length) return disconnect();
      state.accounts = list;
      state.account = list[0];
      state.position = undefined;
      renderWallet();
      refresh();
    });
    wallet.provider.on?.("chainChanged", (id: string) => {
      state.walletChain = Number(id);
      renderWallet();
    });
    renderWallet();
    await refresh();
  } catch (err) {
    $("wallet-error").textContent = `${wallet.name}: ${walletErrorText(err)}`;
  }
}

// ------------------------------------------------------------------ reads and rendering

let refreshing: Promise<void> | null = null;
let queued: Promise<void> | null = null;

/** Read the chain and show it; a call during a read gets the read after it (the account may
 * have changed in between). */
function refresh(): Promise<void> {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => (refreshing = null));
    return refreshing;
  }
  queued ??= refreshing.then(() => {
    queued = null;
    return refresh();
  });
  return queued;
}

async function doRefresh() {
  const reader = state.reader!;
  const account = state.account;
  try {
    const [market, position] = await Promise.all([reader.market(), account ? reader.position(account) : undefined]);
    marketReadAt = performance.now();
    if (account !== state.account) return;
    state.market = market;
    state.position = position;
    renderProtocol(market);
    renderCalc();
    if (position) {
      renderPosition(position, market);
      if (!state.shown) {
        state.shown = true;
        document.body.dataset.positionShownMs = String(Math.round(performance.now()));
      }
      await renderVcu(position.account, market);
      if (state.config!.contracts.rights) await renderRights(position.account, market);
    }
    $("wallet-error").textContent = state.walletChain === state.config!.chainId ? "" : $("wallet-error").textContent;
  } catch (err) {
    $("position-note").textContent = `could not read the chain: ${walletErrorText(err)}`;
  }
}

function renderPosition(p: Position, m: Market) {
  $("position-values").hidden = false;
  $("position-note").textContent = `${p.account}, at ${utc(p.now)} (chain time)`;
  showAmount("v-wallet", p.wallet);
  showAmount("v-staked", p.staked);
  showAmount("v-earned", earnedAt(p, m, chainNow()));
  showAmount("v-unbonding", p.pending.reduce((s, r) => s + r.amount, 0n));
  showApr("v-apr-now", aprNow(m), m);
  $("t-apr-last").textContent = `APR at last utilization (${m.lastUtilizationBps === null ? "–" : bpsText(m.lastUtilizationBps)})`;
  if (m.lastUtilizationBps === null) $("v-apr-last").textContent = "– (no report yet)";
  else showApr("v-apr-last", aprAtLastUtilization(m), m);
  const body = $("requests");
  body.replaceChildren();
  if (!p.pending.length) body.append(h("tr", {}, h("td", { colspan: "5" }, "None")));
  for (const r of p.pending) {
    const cancel = h("button", { type: "button" }, `Cancel request ${r.id}`);
    const withdraw = h("button", { type: "button", "data-unlock": String(r.unlockTime) }, `Withdraw request ${r.id}`);
    cancel.addEventListener("click", () => act("requests-error", () => actions.checkRequest(r.id, state.position!, chainNow(), false), (ctx) => actions.cancel(ctx, r.id)));
    withdraw.addEventListener("click", () => act("requests-error", () => actions.checkRequest(r.id, state.position!, chainNow(), true), (ctx) => actions.withdraw(ctx, r.id)));
    body.append(
      h("tr", {},
        h("th", { scope: "row" }, String(r.id)),
        h("td", { title: `${exact(r.amount)} VVV` }, vvv(r.amount)),
        h("td", {}, utc(r.unlockTime)),
        h("td", { class: "countdown", "data-unlock": String(r.unlockTime) }, ""),
        h("td", {}, cancel, withdraw),
      ),
    );
  }
  tick();
}

/** Once every 250 ms: the live earned amount, the countdowns. */
function tick() {
  const now = chainNow();
  const p = state.position;
  if (p && state.market) {
    showAmount("v-earned", earnedAt(p, state.market, now));
    showAmount("v-withdrawable", p.pending.filter((r) => r.unlockTime <= now).reduce((s, r) => s + r.amount, 0n));
  }
  for (const cell of document.querySelectorAll<HTMLElement>("#requests .countdown")) {
    const left = Number(cell.dataset.unlock) - now;
    cell.textContent = left <= 0 ? "ready to withdraw" : duration(left);
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("#requests button[data-unlock]")) {
    b.disabled = state.busy || Number(b.dataset.unlock) > now;
  }
  if (state.market && state.account) {
    const reset = state.resetsAt ?? (state.market.epoch + 1) * EPOCH;
    $("v-reset").textContent = `${duration(reset - now)} (midnight UTC, ${utc(reset)})`;
  }
}

async function renderVcu(account: Address, m: Market) {
  const reader = state.reader!;
  const note: string[] = [];
  const [proof, spend] = await Promise.all([
    getProof(account, m.epoch).catch((err) => ({ error: String(err.message ?? err) })),
    getSpend(account).catch(() => null),
  ]);
  let allot: bigint;
  state.leaf = null;
  if (m.source === "report" && !("error" in proof)) {
    const p = proof as Proof;
    const siblings = p.siblings.map((s) => ({ hash: s.hash, sum: BigInt(s.sum) }));
    if (!verifyProof(account, p.stake, p.position, p.siblings.map((s) => [s.hash, s.sum]), m.reportRoot!, m.activeStake, m.activeCount)) {
      note.push("the server's proof does not match the report on chain");
    } else {
      state.leaf = { account, stake: BigInt(p.stake), position: BigInt(p.position), siblings };
    }
    allot = await reader.call<bigint>("oracle", "vcuAllocation", [BigInt(m.epoch), account, BigInt(p.stake), BigInt(p.position), siblings]);
    note.push(`From the report of epoch ${m.epoch - 1}: ${grouped(BigInt(p.stake))} VVV of yours in an active stake of ${grouped(m.activeStake)} VVV.`);
  } else {
    allot = await reader.call<bigint>("oracle", "vcuAllocation", [BigInt(m.epoch), account, 0n, 0n, []]);
    note.push(
      m.source === "report"
        ? `Not in the active set of epoch ${m.epoch - 1} (${(proof as { error: string }).error}): an API call in the 7 days before a snapshot, with a stake at it, makes you active.`
        : m.source === "fallback"
          ? `No report of epoch ${m.epoch - 1} by today's deadline (or it was rejected): every staker counts (the fallback).`
          : `The report of epoch ${m.epoch - 1} is not posted yet: today's allotments start when it is, or at ${utc(m.sourceKnownAt).slice(11)} under the fallback.`,
    );
  }
  const spent = spend ? BigInt(spend.spent) : 0n;
  if (!spend) note.push("The metered spend is not available: counted as 0.");
  state.resetsAt = spend?.resetsAt ? Number(spend.resetsAt) : undefined;
  showAmount("v-allotment", allot, "VCU");
  showAmount("v-spent", spent, "VCU");
  showAmount("v-left", allot > spent ? allot - spent : 0n, "VCU");
  $("vcu-note").textContent = note.join(" ");
}

// ------------------------------------------------------------------ compute rights

function priceInputs(r: RightsState): rights.PriceInputs {
  return {
    rightsAtStart: r.rightsAtStart,
    mintedToday: r.mintedToday,
    rightsCap: r.rightsCap,
    capacity: r.reportCapacity,
    totalActiveStake: r.reportActiveStake,
    totalFreeStaked: r.totalFreeStaked,
  };
}

function mintDay(r: RightsState, m: Market): rights.MintDay {
  const allowed = state.leaf ? rights.allowance(r.quota, state.leaf.stake, r.reportActiveStake) : 0n;
  return {
    epoch: m.epoch,
    paused: r.paused,
    source: m.source,
    final: r.final,
    inActiveSet: !!state.leaf,
    allowanceLeft: allowed > r.mintedAgainst ? allowed - r.mintedAgainst : 0n,
    capLeft: rights.capLeft(r.rightsCap, r.minCapacity, r.outstanding),
    freeStake: r.freeStake,
    pricedOk: r.reportCapacity > r.rightsAtStart,
  };
}

async function renderRights(account: Address, m: Market) {
  const r = await readRights(state.reader!, account, m.epoch);
  if (account !== state.account) return;
  state.rights = r;
  $("rights").hidden = false;
  const day = mintDay(r, m);
  showAmount("v-r-minted", r.minted, "VCR");
  showAmount("v-r-locked", r.locked);
  showAmount("v-r-balance", r.balance, "VCR");
  const yielded = r.activations.reduce((s, a) => s + a.rights, 0n);
  showAmount("v-r-yield", yielded, "VCU a day");
  showAmount("v-r-own", r.activeToday, "VCU a day");
  showAmount("v-r-own-next", r.activeTomorrow, "VCU a day");
  showAmount("v-r-reclaim", r.reclaimReady, "VCR");
  if (r.reclaimPending > 0n) $("v-r-reclaim").textContent += ` (${vvv(r.reclaimPending).slice(0, -4)} VCR from ${utc(r.reclaimFrom * EPOCH)})`;
  showAmount("v-r-free", r.freeStake);
  showAmount("v-r-allowance", day.allowanceLeft, "VCR");
  showAmount("v-r-cap", day.capLeft, "VCR");
  $("rights-why").textContent = rights.whyNoMint(day) ?? "";
  const body = $("activations");
  body.replaceChildren();
  if (!r.activations.length) body.append(h("tr", {}, h("td", { colspan: "2" }, "None")));
  for (const a of r.activations) {
    body.append(h("tr", {}, h("th", { scope: "row" }, a.account), h("td", { title: `${exact(a.rights)} VCR` }, `${vvv(a.rights).slice(0, -4)} VCU a day`)));
  }
}

let quoteSeq = 0;

/** Quote as you type: the contract's quoteMint of the box's amount, at the pending block. */
async function renderQuote() {
  const seq = ++quoteSeq;
  const error = $("mint-error");
  const text = $<HTMLInputElement>("mint-amount").value;
  if (!state.rights || text.trim() === "") {
    error.textContent = "";
    showAmount("v-r-quote", null);
    return;
  }
  let n: bigint;
  try {
    n = rights.parseRights(text, "rights to mint");
  } catch (err) {
    error.textContent = (err as Error).message;
    showAmount("v-r-quote", null);
    return;
  }
  try {
    const quote = await state.reader!.call<bigint>("rights", "quoteMint", [n]);
    if (seq !== quoteSeq) return;
    error.textContent = "";
    showAmount("v-r-quote", quote);
  } catch (err) {
    if (seq !== quoteSeq) return;
    showAmount("v-r-quote", null);
    error.textContent = `no quote: ${customErrorText(err) ?? walletErrorText(err)}`;
  }
}

function wireRights() {
  const mintBox = $<HTMLInputElement>("mint-amount");
  mintBox.addEventListener("input", renderQuote);
  $("mint-max").addEventListener("click", () => {
    const r = state.rights;
    if (!r || !state.market) return;
    const day = mintDay(r, state.market);
    const limit = day.allowanceLeft < day.capLeft ? day.allowanceLeft : day.capLeft;
    mintBox.value = exact(rights.mostAffordable(priceInputs(r), r.freeStake, limit));
    renderQuote();
  });
  $("mint-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = mintBox.value;
    act(
      "mint-error",
      () => {
        const r = state.rights!;
        const day = mintDay(r, state.market!);
        const n = rights.parseRights(text, "rights to mint");
        const quote = rights.quoteMint(priceInputs(r), n);
        return [rights.checkMint(text, day, quote), quote ?? 0n] as const;
      },
      (c, [n, quote]) => actions.mintRights(c, n, quote, state.leaf!),
      mintBox,
    ).then(renderQuote);
  });
  const box = (id: string) => $<HTMLInputElement>(id);
  $("repay-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = box("repay-amount").value;
    act("repay-error", () => rights.checkRepay(text, state.rights!.minted, state.rights!.balance), actions.repayRights, box("repay-amount"));
  });
  $("activate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const [text, to] = [box("activate-amount").value, box("activate-account").value];
    act(
      "activate-error",
      () => rights.checkActivate(text, to, state.account!, state.rights!.balance),
      (c, [n, account]) => actions.activateRights(c, n, account),
      box("activate-amount"),
    );
  });
  $("deactivate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const [text, to] = [box("deactivate-amount").value, box("deactivate-account").value];
    const activated = (a: string) => state.rights!.activations.find((x) => x.account.toLowerCase() === a.toLowerCase())?.rights ?? 0n;
    act(
      "deactivate-error",
      () => rights.checkDeactivate(text, to, state.account!, activated),
      (c, [n, account]) => actions.deactivateRights(c, n, account),
      box("deactivate-amount"),
    );
  });
  $("reclaim").addEventListener("click", () =>
    act(
      "deactivate-error",
      () => {
        const r = state.rights!;
        if (r.reclaimReady > 0n) return;
        throw new Error(
          r.reclaimPending > 0n
            ? `nothing to reclaim yet: ${exact(r.reclaimPending)} VCR from ${utc(r.reclaimFrom * EPOCH)}`
            : "nothing to reclaim: deactivate rights first",
        );
      },
      (c) => actions.reclaimRights(c),
    ),
  );
}

function renderProtocol(m: Market) {
  $("v-epoch").textContent = `${m.epoch} (${utc(m.epoch * EPOCH).slice(0, 10)})`;
  $("v-util").textContent =
    m.lastUtilizationBps === null ? "– (no report yet)" : `${bpsText(m.lastUtilizationBps)} (epoch ${m.lastReportedEpoch})`;
  $("v-split").textContent = m.stakersBps === null ? "–" : `${bpsText(m.stakersBps)} / ${bpsText(10_000n - m.stakersBps)}`;
  showAmount("v-total", m.totalStaked);
  showAmount("v-active", m.activeStake);
  showAmount("v-capacity", m.capacity, "VCU");
  // with compute rights activated for today, the stakes share what they leave of the capacity
  const rightsToday = m.rightsToday > 0n;
  $("t-pool").hidden = $("v-pool").hidden = !rightsToday;
  showAmount("v-pool", rightsToday ? m.pool : null, "VCU");
  if (rightsToday) $("v-pool").title += ` (${exact(m.capacity)} VCU less ${exact(m.rightsToday)} VCU of rights)`;
  showAmount("v-per-active", m.activeStake ? (m.pool * ONE) / m.activeStake : null, "VCU");
  showAmount("v-per-all", m.allStake ? (m.pool * ONE) / m.allStake : null, "VCU");
}

// ------------------------------------------------------------------ actions

function ctx(): actions.Ctx {
  return {
    reader: state.reader!,
    provider: state.wallet!.provider,
    account: state.account!,
    position: state.position!,
    market: state.market!,
    chainNow,
    line: txLine,
  };
}

function txLine(label: string): actions.TxLine {
  const li = h("li", {}, h("span", { class: "label" }, label + ": "), h("span", { class: "state" }, "starting"));
  $("tx-log").prepend(li);
  const set = (text: string, cls: string) => {
    li.className = cls;
    (li.querySelector(".state") as HTMLElement).textContent = text;
  };
  return {
    note: (text) => set(text, "note"),
    pending: (hash) => set(`pending, tx ${hash}`, "pending"),
    confirmed: (hash, said) => {
      set(`confirmed${said ? ", " + said.text : ""}, tx ${hash}`, "confirmed");
      if (said) li.title = said.exact;
    },
    failed: (reason, hash) => set(`failed: ${reason}${hash ? `, tx ${hash}` : ""}`, "failed"),
  };
}

function setBusy(busy: boolean) {
  state.busy = busy;
  for (const b of document.querySelectorAll<HTMLButtonElement>("#actions button, #rights button")) b.disabled = busy;
  if (!busy) tick();
}

/** Check (after a fresh read, before any wallet request), then run; `input` is emptied once the
 * action went through (so that a second click cannot repeat it by accident). */
async function act<T>(
  errorId: string,
  check: () => T,
  run: (c: actions.Ctx, value: T) => Promise<unknown>,
  input?: HTMLInputElement,
) {
  const error = $(errorId);
  error.textContent = "";
  if (!state.wallet || !state.account) {
    error.textContent = "connect a wallet first";
    return;
  }
  if (state.walletChain !== state.config!.chainId) {
    error.textContent = `the wallet is on chain ${state.walletChain}: switch it to chain ${state.config!.chainId} first`;
    return;
  }
  if (state.busy) return;
  setBusy(true);
  try {
    await refresh();
    let value: T;
    try {
      value = check();
    } catch (err) {
      error.textContent = (err as Error).message;
      return;
    }
    const done = await run(ctx(), value);
    if (done && input) input.value = "";
    await refresh();
  } catch (err) {
    error.textContent = walletErrorText(err);
  } finally {
    setBusy(false);
  }
}

function wireActions() {
  $("stake-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("stake-amount");
    const text = input.value;
    act("stake-error", () => actions.checkStake(text, state.position!, state.market!), actions.stake, input);
  });
  $("unstake-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("unstake-amount");
    const text = input.value;
    act("unstake-error", () => actions.checkUnstake(text, state.position!, state.market!), actions.unstake, input);
  });
  // "Max" puts the exact amount in the box (every decimal: what is shown is floored)
  const max = (button: string, input: string, amount: (p: Position) => bigint) =>
    $(button).addEventListener("click", () => {
      if (state.position) $<HTMLInputElement>(input).value = exact(amount(state.position));
    });
  max("stake-max", "stake-amount", (p) => p.wallet);
  max("unstake-max", "unstake-amount", (p) => p.staked);
  const earnedNow = () => earnedAt(state.position!, state.market!, chainNow());
  $("claim").addEventListener("click", () =>
    act("rewards-error", () => actions.checkRewards(state.position!, state.market!, earnedNow(), chainNow(), "claim"), (c) => actions.claim(c)),
  );
  $("restake").addEventListener("click", () =>
    act("rewards-error", () => actions.checkRewards(state.position!, state.market!, earnedNow(), chainNow(), "restake"), (c) => actions.restake(c)),
  );
}

// ------------------------------------------------------------------ calculator

let workloadLines = 0;

function addWorkloadLine(model?: string) {
  const n = ++workloadLines;
  const row = h("tr", { class: "workload-line" });
  const select = h("select", { "aria-label": `Model, line ${n}` });
  for (const p of state.prices) select.append(h("option", { value: p.model }, `${p.model} (${p.kind})`));
  if (model) select.value = model;
  const count = h("input", { type: "number", min: "1", value: "2000", "aria-label": `Requests or images per day, line ${n}` });
  const inp = h("input", { type: "number", min: "0", value: "1500", "aria-label": `Average input tokens, line ${n}` });
  const out = h("input", { type: "number", min: "0", value: "400", "aria-label": `Average output tokens, line ${n}` });
  const remove = h("button", { type: "button" }, `Remove line ${n}`);
  remove.addEventListener("click", () => {
    row.remove();
    renderCalc();
  });
  const kind = () => {
    const image = state.prices.find((p) => p.model === select.value)?.kind === "image";
    inp.disabled = out.disabled = image;
  };
  select.addEventListener("change", () => (kind(), renderCalc()));
  for (const el of [count, inp, out]) el.addEventListener("input", renderCalc);
  row.append(...[select, count, inp, out, remove].map((el) => h("td", {}, el)));
  $("workload").append(row);
  kind();
  renderCalc();
}

/** A whole number >= `min` from a number field, or an error naming the field (its label). */
function count(el: Element, min = 0n): bigint {
  const input = el as HTMLInputElement;
  const name = input.labels?.[0]?.textContent ?? input.getAttribute("aria-label") ?? input.id;
  const text = input.value.trim();
  if (input.validity.badInput) throw new Error(`${name}: not a number`);
  if (text === "") throw new Error(`${name}: enter a whole number`);
  if (!/^-?\d+$/.test(text)) throw new Error(`${name} must be a whole number: "${text}"`);
  if (text.startsWith("-") && min === 0n) throw new Error(`${name} cannot be negative: "${text}"`);
  if (BigInt(text) < min) throw new Error(`${name} must be at least ${min}: "${text}"`);
  return BigInt(text);
}

function renderCalc() {
  const m = state.market;
  if (!m) return;
  const err = $("calc-forward-error");
  err.textContent = "";
  try {
    const stake = parseAmount($<HTMLInputElement>("calc-stake").value, "stake");
    // a stake shares today's pool (the capacity less today's compute rights) with the free stake
    const active = allotment(stake, m.pool, m.activeStake);
    showAmount("v-calc-active", active, "VCU");
    showAmount("v-calc-all", allotment(stake, m.pool, m.allStake), "VCU");
    const buys = whatItBuys(active, state.prices, count($("calc-in")), count($("calc-out")));
    const cell = (v: bigint | null) => h("td", {}, v === null ? "–" : fixed(v * ONE, 0));
    $("buys").replaceChildren(
      ...buys.map((b) => h("tr", {}, h("th", { scope: "row" }, b.model), cell(b.requests), cell(b.inputTokens), cell(b.outputTokens), cell(b.images))),
    );
  } catch (e) {
    err.textContent = (e as Error).message;
    showAmount("v-calc-active", null);
    showAmount("v-calc-all", null);
    $("buys").replaceChildren();
  }
  const rerr = $("calc-reverse-error");
  rerr.textContent = "";
  try {
    const tasks: Task[] = [...document.querySelectorAll(".workload-line")].map((row) => {
      const [select, n, inp, out] = row.querySelectorAll("select, input");
      const image = state.prices.find((p) => p.model === (select as HTMLSelectElement).value)?.kind === "image";
      const model = (select as HTMLSelectElement).value;
      return { model, count: count(n, 1n), inputTokens: image ? 0n : count(inp), outputTokens: image ? 0n : count(out) };
    });
    if (!tasks.length) throw new Error("add a workload line");
    const cost = tasks.reduce((s, t) => s + taskCost(t, state.prices), 0n);
    showAmount("v-work-vcu", cost, "VCU");
    showAmount("v-work-active", stakeNeeded(cost, m.pool, m.activeStake, m.minStake));
    showAmount("v-work-all", stakeNeeded(cost, m.pool, m.allStake, m.minStake));
  } catch (e) {
    rerr.textContent = (e as Error).message;
    for (const id of ["v-work-vcu", "v-work-active", "v-work-all"]) showAmount(id, null);
  }
}

// ------------------------------------------------------------------ start

/** On a phone the tables show as cards (style.css): each body cell says its column's header. */
function labelCells(table: HTMLTableElement) {
  const heads = [...(table.tHead?.rows[0]?.cells ?? [])].map((c) => c.textContent ?? "");
  for (const body of table.tBodies) {
    for (const row of body.rows) [...row.cells].forEach((c, i) => heads[i] && c.colSpan === 1 && (c.dataset.label = heads[i]));
  }
}

async function main() {
  wireActions();
  wireRights();
  for (const table of document.querySelectorAll<HTMLTableElement>("table.cards")) {
    labelCells(table);
    for (const body of table.tBodies) new MutationObserver(() => labelCells(table)).observe(body, { childList: true });
  }
  const config = await getConfig();
  state.config = config;
  state.reader = new Reader(makeClient(config), config);
  initKeys(config.gateway === true, () =>
    state.wallet && state.account ? { provider: state.wallet.provider, account: state.account, now: chainNow } : null,
  );
  let autoTried = false;
  discoverWallets(config, (wallets) => {
    state.wallets = wallets;
    const remembered = localStorage.getItem(STORE);
    const w = wallets.find((x) => x.id === remembered);
    if (w && !autoTried && !state.wallet) {
      autoTried = true;
      connect(w, false);
    } else if (!state.wallet) renderWallet();
  });
  if (!autoTried) refresh(); // else the connection reads
  getPrices().then((prices) => {
    state.prices = prices;
    if (prices.length) addWorkloadLine(prices.find((p) => p.kind === "chat")?.model);
    renderCalc();
  });
  $("workload-add").addEventListener("click", () => addWorkloadLine());
  for (const id of ["calc-stake", "calc-in", "calc-out"]) $(id).addEventListener("input", renderCalc);
  getHistory()
    .then(async (rows) => (await import("./charts")).drawCharts(rows, $("chart-util"), $("chart-apr")))
    .catch((err) => ($("chart-util").textContent = `history not available: ${err.message}`));
  setInterval(tick, 250);
  setInterval(() => !state.busy && refresh(), POLL_MS);
}

main().catch((err) => {
  $("wallet-state").textContent = `The page could not start: ${walletErrorText(err)}`;
});
