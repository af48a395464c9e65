declare module "virtual:abis" {
  import type { Abi } from "viem";
  export const abis: { token: Abi; staking: Abi; oracle: Abi; emissions: Abi; rights: Abi };
  /** NatSpec @notice of each custom error, by signature ("BelowMinimumStake(uint256,uint256)"). */
  export const errorNotices: Record<string, string>;
}
declare module "*.mjs";
declare module "*.css";
