// A revert in words: the custom error decoded against the four contracts' ABIs, told with its
// NatSpec notice (from the compiled artifacts) and its arguments.
import { decodeErrorResult, type Abi } from "viem";
import { abis, errorNotices } from "virtual:abis";
import { exact, utc } from "./amounts";

type AbiError = Extract<Abi[number], { type: "error" }>;

const ERRORS: Abi = (() => {
  const seen = new Set<string>();
  const out: AbiError[] = [];
  for (const abi of Object.values(abis)) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const sig = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (!seen.has(sig)) seen.add(sig), out.push(item);
    }
  }
  return out;
})();

const AMOUNT = /amount|minimum|requested|staked|stake|balance|allowance|needed|total/i;

function arg(name: string, type: string, value: unknown): string {
  if (type === "uint256" && /time|At$/.test(name)) return utc(value as bigint);
  if (type === "uint256" && AMOUNT.test(name)) return `${exact(value as bigint)} VVV`;
  return String(value);
}

/** The revert data (0x...) carried somewhere in a viem or wallet error. */
function revertData(err: any): `0x${string}` | null {
  for (let e = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    for (const d of [e.data, e.data?.data, e.error?.data]) {
      if (typeof d === "string" && /^0x[0-9a-fA-F]{8}/.test(d)) return d as `0x${string}`;
    }
    if (e.raw && typeof e.raw === "string") return e.raw;
  }
  const m = /(0x[0-9a-fA-F]{8,})/.exec(String(err?.details ?? ""));
  return m ? (m[1] as `0x${string}`) : null;
}

/** "A stake would be non-zero but below minimum, or a partial unstake below it.
 * (BelowMinimumStake: amount 0.0005 VVV, minimum 0.001 VVV)": the error's NatSpec, then its
 * arguments; null when the error carries no custom error. */
export function customErrorText(err: any): string | null {
  const data = revertData(err);
  if (!data) return null;
  try {
    const { errorName, args, abiItem } = decodeErrorResult({ abi: ERRORS, data }) as any;
    const inputs = (abiItem as AbiError).inputs as readonly { name?: string; type: string }[];
    const sig = `${errorName}(${inputs.map((i) => i.type).join(",")})`;
    const values = inputs.map((input, i) => ({ name: input.name ?? `arg${i}`, text: arg(input.name ?? "", input.type, args?.[i]) }));
    const notice = errorNotices[sig] ?? errorName;
    const detail = values.map((v) => `${v.name} ${v.text}`).join(", ");
    return `${notice.replace(/`/g, "")} (${errorName}${detail ? ": " + detail : ""})`;
  } catch {
    return null;
  }
}
