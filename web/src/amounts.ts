// Fixed-point amounts: VVV and VCU have 18 decimals. Parsing follows vvv/chain/units.py.

export const ONE = 10n ** 18n;
export const SIGNIFICANT = 6; // amounts are shown floored to 6 significant digits (`short`)

export class AmountError extends Error {}

/** "1.5" -> 1.5e18 wei. A one-line error for empty, negative, malformed or too precise input. */
export function parseAmount(text: string, what = "amount"): bigint {
  const t = text.trim();
  if (t === "") throw new AmountError(`enter the ${what}`);
  if (t.startsWith("-")) throw new AmountError(`the ${what} must be positive: "${t}"`);
  const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === "" && !m[2])) throw new AmountError(`not a number: "${t}"`);
  const frac = m[2] ?? "";
  if (frac.replace(/0+$/, "").length > 18) throw new AmountError(`more than 18 decimals: "${t}"`);
  const wei = BigInt(m[1] || "0") * ONE + BigInt((frac + "0".repeat(18)).slice(0, 18));
  if (wei === 0n) throw new AmountError(`the ${what} must be positive: "${t}"`);
  return wei;
}

/** Exact decimal: 1.5e18 -> "1.5". */
export function exact(wei: bigint): string {
  const sign = wei < 0n ? "-" : "";
  const v = wei < 0n ? -wei : wei;
  const frac = (v % ONE).toString().padStart(18, "0").replace(/0+$/, "");
  return sign + (v / ONE).toString() + (frac ? "." + frac : "");
}

/** Exact, with thousands separators: 25000.5e18 -> "25,000.5". */
export function grouped(wei: bigint): string {
  const [whole, frac] = exact(wei).split(".");
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac ? "." + frac : "");
}

/** Floored to `places` decimals with thousands separators: (1234.5e18, 6) -> "1,234.500000". */
export function fixed(wei: bigint, places: number): string {
  const sign = wei < 0n ? "-" : "";
  const v = wei < 0n ? -wei : wei;
  const whole = (v / ONE).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  if (places === 0) return sign + whole;
  const frac = (v % ONE).toString().padStart(18, "0").slice(0, places);
  return `${sign}${whole}.${frac}`;
}

/** The precision that matters: floored to SIGNIFICANT significant digits, at least 2 decimals,
 * trailing zeros beyond 2 dropped, thousands separated. 25000e18 -> "25,000.00",
 * 1234.56789e18 -> "1,234.56", 12.3456789e18 -> "12.3456", 0.0021e18 -> "0.0021". The exact
 * value goes in the title (hover) and in the inputs. */
export function short(wei: bigint): string {
  const sign = wei < 0n ? "-" : "";
  const v = wei < 0n ? -wei : wei;
  const whole = v / ONE;
  const frac = (v % ONE).toString().padStart(18, "0");
  const lead = frac.search(/[1-9]/);
  const places =
    whole > 0n ? Math.max(2, SIGNIFICANT - whole.toString().length) : lead < 0 ? 2 : Math.min(18, lead + SIGNIFICANT);
  const shown = frac.slice(0, places).replace(/0+$/, "").padEnd(2, "0");
  return `${sign}${whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${shown}`;
}

export const vvv = (wei: bigint) => `${short(wei)} VVV`;
export const vcu = (wei: bigint) => `${short(wei)} VCU`;
/** Exact, for messages about what the user typed: "250.5 VVV". */
export const exactVvv = (wei: bigint) => `${grouped(wei)} VVV`;

/** A value scaled by 10**places, exactly: (1234567n, 6) -> "1.234567". */
export function scaled(value: bigint, places: number): string {
  const p = 10n ** BigInt(places);
  return `${value / p}.${(value % p).toString().padStart(places, "0")}`;
}

/** "3d 4h 5m 6s" for a number of seconds (>= 0). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d ? d + "d " : ""}${d || h ? h + "h " : ""}${m}m ${s % 60}s`;
}

export function utc(timestamp: number | bigint): string {
  return new Date(Number(timestamp) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Hundredths of a percent (basis points) as a percentage, floored, trailing zeros dropped,
 * thousands separated: 2500 -> "25 %", 1234 -> "12.34 %", 1250 -> "12.5 %", 279999999 -> "2,799,999.99 %". */
export function bpsText(bps: number | bigint): string {
  const b = BigInt(bps);
  const v = b < 0n ? -b : b;
  const frac = (v % 100n).toString().padStart(2, "0").replace(/0+$/, "");
  const whole = (v / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${b < 0n ? "-" : ""}${whole}${frac ? "." + frac : ""} %`;
}
