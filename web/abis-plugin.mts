// Vite plugin: the virtual module "virtual:abis" holds the ABIs of the five contracts and the
// NatSpec text of every custom error, read at build time from ape's compiled contract types
// (.build/__local__.json, written by `ape compile`). Nothing is copied into the repository.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Plugin } from "vite";

const ID = "virtual:abis";
const RESOLVED = "\0" + ID;
export const CONTRACTS = {
  token: "VVVToken",
  staking: "VVVStaking",
  oracle: "EpochOracle",
  emissions: "EmissionsController",
  rights: "ComputeRights",
} as const;

type Docs = { errors?: Record<string, { notice?: string; details?: string }[]> };
type ContractType = { abi: unknown[]; userdoc?: Docs; devdoc?: Docs };

export function abis(buildDir: string): Plugin {
  const file = join(buildDir, "__local__.json");
  return {
    name: "vvv-abis",
    resolveId(source) {
      return source === ID ? RESOLVED : undefined;
    },
    load(id) {
      if (id !== RESOLVED) return undefined;
      if (!existsSync(file)) this.error(`${file} is missing: run "ape compile" before building the page`);
      this.addWatchFile(file);
      const types: Record<string, ContractType> = JSON.parse(readFileSync(file, "utf8")).contractTypes ?? {};
      const out: Record<string, unknown[]> = {};
      const notices: Record<string, string> = {};
      for (const [key, name] of Object.entries(CONTRACTS)) {
        const type = types[name];
        if (!type) this.error(`${file} has no contract ${name}: run "ape compile"`);
        out[key] = type.abi;
        // the @notice of each error, else its @dev text (OpenZeppelin documents its errors so)
        for (const [field, docs] of [["details", type.devdoc], ["notice", type.userdoc]] as const) {
          for (const [signature, entries] of Object.entries(docs?.errors ?? {})) {
            const text = entries.find((e) => e[field])?.[field];
            if (text) notices[signature] = text;
          }
        }
      }
      return `export const abis = ${JSON.stringify(out)};\nexport const errorNotices = ${JSON.stringify(notices)};\n`;
    },
  };
}
