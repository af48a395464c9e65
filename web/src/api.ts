// The dashboard server's read-only JSON API (all big integers are decimal strings).

export type Address = `0x${string}`;

export interface Config {
  chainId: number;
  rpcUrl: string;
  local: boolean;
  network: string;
  contracts: { token: Address; staking: Address; oracle: Address; emissions: Address; rights?: Address };
  deployment: { block?: number; [k: string]: unknown };
  minStake: string;
  unbondingPeriod: number | string;
  epochLength: number | string;
  genesisEpoch: number | string;
  gateway?: boolean; // the server passes the keys panel's requests to a gateway
}

export interface Proof {
  epoch: number;
  account: Address;
  stake: string;
  position: number;
  siblings: { hash: `0x${string}`; sum: string }[];
  reportEpoch: number;
  capacity: string;
  totalActiveStake: string;
  allotment?: string;
}

export interface Spend {
  epoch: number;
  spent: string;
  resetsAt: number;
  source: string;
}

export interface ModelPrice {
  model: string;
  kind: "chat" | "image";
  per1mInput: bigint; // VCU wei per 1,000,000 input tokens
  per1mOutput: bigint;
  perImage: bigint; // VCU wei per image
}

export interface EpochRow {
  epoch: number;
  utilizationBps: number;
  stakersBps: number;
  aprMicroPercent: string | null;
  [k: string]: unknown;
}

export class ApiError extends Error {}

async function get<T>(path: string): Promise<T | null> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (response.status === 404) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(`${path}: ${body.error ?? response.statusText}`);
  return body as T;
}

export async function getConfig(): Promise<Config> {
  const config = await get<Config>("api/config");
  if (!config) throw new ApiError("the server has no /api/config");
  config.chainId = Number(config.chainId);
  return config;
}

/** The account's proof for `epoch`, or the server's reason why there is none (404). */
export async function getProof(account: string, epoch: number): Promise<Proof | { error: string }> {
  const response = await fetch(`api/proof/${account}?epoch=${epoch}`, { headers: { accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 404) return { error: String(body.error ?? "no proof") };
  if (!response.ok) throw new ApiError(`api/proof: ${body.error ?? response.statusText}`);
  return body as Proof;
}
export const getSpend = (account: string) => get<Spend>(`api/spend/${account}`);

export async function getHistory(): Promise<EpochRow[]> {
  const body = await get<{ epochs: EpochRow[] }>("api/history");
  return body?.epochs ?? [];
}

const big = (v: unknown) => BigInt(v === null || v === undefined || v === "" ? 0 : String(v));

/** The price table, whatever its exact shape: a list (or a map by model) of rows with the
 * model, its kind and its prices in VCU wei. */
export async function getPrices(): Promise<ModelPrice[]> {
  const body = await get<any>("api/prices");
  if (!body) return [];
  let rows: any[] = Array.isArray(body) ? body : (body.models ?? body.prices ?? []);
  if (!Array.isArray(rows)) rows = Object.entries(rows).map(([model, row]: [string, any]) => ({ model, ...row }));
  return rows
    .map((r) => ({
      model: String(r.model),
      kind: r.kind === "image" ? "image" : "chat",
      per1mInput: big(r.per1mInput ?? r.per_1m_input ?? r.vcuPer1mInput),
      per1mOutput: big(r.per1mOutput ?? r.per_1m_output ?? r.vcuPer1mOutput),
      perImage: big(r.perImage ?? r.per_image ?? r.vcuPerImage),
    }) as ModelPrice)
    .sort((a, b) => (a.model < b.model ? -1 : 1));
}
