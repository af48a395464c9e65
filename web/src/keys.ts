// The API keys panel: create, list and revoke the keys an agent uses with the gateway. Each
// request is an EIP-712 message signed in the wallet (the same messages as `ape run staker
// keys`, vvv/chain/apikeys.py) and passed by the dashboard's server to the gateway. The secret
// is made here, shown once, and never leaves the browser but as its SHA-256 hash.
import { exact, parseAmount, vcu } from "./amounts";
import { EIP712_DOMAIN, walletErrorText, type Eip1193 } from "./wallets";

export interface KeysCtx {
  provider: Eip1193;
  account: `0x${string}`;
  now(): number; // the chain's time (unix s): the gateway checks deadlines and expiries by it
}

interface KeyRecord {
  account: string;
  key_hash: string;
  label: string;
  daily_cap: string;
  monthly_cap: string;
  lifetime_cap: string;
  requests_per_minute: number;
  models: string[];
  expiry: number;
  created: number;
  revoked: number | null;
  status: string;
}

const REQUEST_LIFETIME = 600; // seconds a signed request stays valid (its deadline)
const MAX_LABEL = 64;
const MAX_RATE = 1_000_000; // requests a minute a key may allow
const MAX_MODELS = 1_024; // characters of a key's model allow-list
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const TYPES: Record<string, { name: string; type: string }[]> = {
  CreateKey: [
    { name: "account", type: "address" },
    { name: "label", type: "string" },
    { name: "dailyCap", type: "uint256" },
    { name: "monthlyCap", type: "uint256" },
    { name: "lifetimeCap", type: "uint256" },
    { name: "requestsPerMinute", type: "uint256" },
    { name: "models", type: "string" },
    { name: "expiry", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "keyHash", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
  ListKeys: [
    { name: "account", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RevokeKey: [
    { name: "account", type: "address" },
    { name: "keyHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return "vvv_" + base64;
}

async function keyHash(secret: string): Promise<`0x${string}`> {
  return `0x${hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))))}`;
}

function nonce(): string {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return String((BigInt(hi) << 32n) | BigInt(lo));
}

async function post(path: string, body: unknown): Promise<any> {
  const response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = typeof data?.error === "string" ? data.error : data?.error?.message;
    throw new Error(message ?? `${response.status} ${response.statusText}`);
  }
  return data;
}

/** `message` of `primaryType` signed by the connected account; the body the gateway takes. */
async function signed(ctx: KeysCtx, primaryType: string, message: Record<string, string>) {
  const domain = await post("api/keys/domain", undefined);
  const typed = { types: { EIP712Domain: EIP712_DOMAIN, [primaryType]: TYPES[primaryType] }, primaryType, domain, message };
  const signature = await ctx.provider.request({ method: "eth_signTypedData_v4", params: [ctx.account, JSON.stringify(typed)] });
  return { message, signature };
}

const deadline = (ctx: KeysCtx) => String(Math.floor(ctx.now()) + REQUEST_LIFETIME);

function say(text: string, failed = false) {
  const el = $("keys-status");
  el.textContent = text;
  el.classList.toggle("error", failed);
}

function expiryText(expiry: number): string {
  return expiry ? new Date(expiry * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never";
}

/** A key's limits beyond its daily cap, in words ("none" when it has none). */
function limitsText(key: KeyRecord): string {
  const parts: string[] = [];
  if (key.monthly_cap && key.monthly_cap !== "0") parts.push(`${vcu(BigInt(key.monthly_cap))} a month`);
  if (key.lifetime_cap && key.lifetime_cap !== "0") parts.push(`${vcu(BigInt(key.lifetime_cap))} in its life`);
  if (key.requests_per_minute) parts.push(`${key.requests_per_minute} requests a minute`);
  if (key.models?.length) parts.push(`models: ${key.models.join(", ")}`);
  return parts.length ? parts.join("; ") : "none";
}

let shown: KeyRecord[] = []; // the keys in the table: the last list, and the keys created since

function show(ctx: () => KeysCtx | null, keys: KeyRecord[]) {
  shown = keys;
  const body = $<HTMLTableSectionElement>("keys-list");
  body.replaceChildren();
  if (!keys.length) {
    const row = body.insertRow();
    row.insertCell().textContent = "No keys";
    return;
  }
  for (const key of keys) {
    const row = body.insertRow();
    row.insertCell().textContent = key.label;
    const hashCell = row.insertCell();
    hashCell.textContent = `${key.key_hash.slice(0, 10)}…`;
    hashCell.title = key.key_hash;
    const cap = row.insertCell();
    cap.textContent = key.daily_cap === "0" ? "none" : vcu(BigInt(key.daily_cap));
    if (key.daily_cap !== "0") cap.title = `${exact(BigInt(key.daily_cap))} VCU`;
    row.insertCell().textContent = limitsText(key);
    row.insertCell().textContent = expiryText(key.expiry);
    row.insertCell().textContent = key.status;
    const cell = row.insertCell();
    if (key.status === "active") {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Revoke ${key.label}`;
      button.addEventListener("click", () => revoke(ctx, key));
      cell.append(button);
    }
  }
}

async function list(ctx: () => KeysCtx | null) {
  const c = ctx();
  if (!c) return say("Connect a wallet first.", true);
  say("asking the wallet to sign the request to list your keys");
  try {
    const body = await signed(c, "ListKeys", { account: c.account, nonce: nonce(), deadline: deadline(c) });
    const data = await post("api/keys/list", body);
    show(ctx, data.keys as KeyRecord[]);
    say(`${data.keys.length} key(s) of ${c.account}`);
  } catch (err) {
    say(`Listing failed: ${walletErrorText(err)}`, true);
  }
}

async function revoke(ctx: () => KeysCtx | null, key: KeyRecord) {
  const c = ctx();
  if (!c) return say("Connect a wallet first.", true);
  say(`asking the wallet to sign the revocation of ${key.label}`);
  try {
    const body = await signed(c, "RevokeKey", { account: c.account, keyHash: key.key_hash, nonce: nonce(), deadline: deadline(c) });
    await post("api/keys/revoke", body);
    await list(ctx);
    say(`Revoked ${key.label}: it stops working within seconds`);
  } catch (err) {
    say(`Revoking failed: ${walletErrorText(err)}`, true);
  }
}

/** A key's inputs, checked before the wallet opens (caps in VCU wei, 0: none). */
export interface KeyInputs {
  label: string;
  dailyCap: bigint;
  monthlyCap: bigint;
  lifetimeCap: bigint;
  requestsPerMinute: number; // 0: no limit
  models: string; // model ids separated by commas, "": every model
  expiry: number; // unix s, 0: never
}

const capOf = (text: string, what: string) => (text.trim() === "" ? 0n : parseAmount(text, what));

export function checkKeyInputs(
  label: string, cap: string, days: string, now: number, month = "", life = "", rpm = "", models = "",
): KeyInputs {
  const name = label.trim();
  if (!name) throw new Error("Give the key a label (e.g. the agent's name).");
  if (name.length > MAX_LABEL) throw new Error(`A label has at most ${MAX_LABEL} characters.`);
  const dailyCap = capOf(cap, "daily cap");
  const monthlyCap = capOf(month, "monthly cap");
  const lifetimeCap = capOf(life, "lifetime cap");
  const r = rpm.trim();
  if (r !== "" && (!/^\d+$/.test(r) || Number(r) < 1 || Number(r) > MAX_RATE))
    throw new Error(`Requests per minute: a whole number from 1 to ${MAX_RATE.toLocaleString("en-US")} (empty: no limit).`);
  const ids = models.split(",").map((m) => m.trim()).filter((m) => m !== "");
  const bad = ids.find((m) => !MODEL.test(m));
  if (bad !== undefined) throw new Error(`Models: "${bad}" is not a model id (ids separated by commas).`);
  if (new Set(ids).size !== ids.length) throw new Error("Models: a model is named twice.");
  if (ids.join(",").length > MAX_MODELS) throw new Error(`Models: at most ${MAX_MODELS} characters.`);
  const d = days.trim();
  if (d !== "" && !/^\d+$/.test(d)) throw new Error("Expires in: a whole number of days (empty: never).");
  const expiry = d === "" || d === "0" ? 0 : Math.floor(now) + Number(d) * 86_400;
  return { label: name, dailyCap, monthlyCap, lifetimeCap, requestsPerMinute: r === "" ? 0 : Number(r), models: ids.join(","), expiry };
}

const KEY_FIELDS = ["key-label", "key-cap", "key-month", "key-life", "key-rpm", "key-models", "key-days"];

async function create(ctx: () => KeysCtx | null) {
  const c = ctx();
  if (!c) return say("Connect a wallet first.", true);
  const value = (id: string) => $<HTMLInputElement>(id).value;
  let k: KeyInputs;
  try {
    k = checkKeyInputs(value("key-label"), value("key-cap"), value("key-days"), c.now(), value("key-month"),
      value("key-life"), value("key-rpm"), value("key-models"));
  } catch (err: any) {
    return say(err.message, true);
  }
  const secret = newSecret();
  const warning = $("keys-warning");
  warning.hidden = true;
  say("asking the wallet to sign the new key");
  try {
    const message = {
      account: c.account, label: k.label, dailyCap: String(k.dailyCap), monthlyCap: String(k.monthlyCap),
      lifetimeCap: String(k.lifetimeCap), requestsPerMinute: String(k.requestsPerMinute), models: k.models,
      expiry: String(k.expiry), nonce: nonce(), keyHash: await keyHash(secret), deadline: deadline(c),
    };
    const answer = await post("api/keys/create", await signed(c, "CreateKey", message));
    const created = answer.key as KeyRecord;
    $("key-secret").textContent = secret;
    // the gateway's record of the new key joins the table (listing again would ask for a signature)
    const mine = shown.filter((key) => key.account.toLowerCase() === c.account.toLowerCase() && key.key_hash !== created.key_hash);
    show(ctx, [...mine, created]);
    for (const id of KEY_FIELDS) $<HTMLInputElement>(id).value = "";
    say(`Key "${k.label}" created. Copy its secret now: it is shown once, and the gateway keeps only its hash.`);
    if (typeof answer.warning === "string") {
      warning.textContent = `Warning: ${answer.warning}`;
      warning.hidden = false;
    }
  } catch (err) {
    say(`Creating the key failed: ${walletErrorText(err)}`, true);
  }
}

export function initKeys(enabled: boolean, ctx: () => KeysCtx | null) {
  $("keys").hidden = !enabled;
  if (!enabled) return;
  $("key-create").addEventListener("click", () => create(ctx));
  $("keys-refresh").addEventListener("click", () => list(ctx));
}
