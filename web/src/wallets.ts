// Wallets: EIP-6963 discovery, the legacy window.ethereum, and (on a local chain only) the node's
// unlocked test accounts as an EIP-1193 provider over the RPC URL (anvil signs
// eth_sendTransaction and eth_signTypedData_v4 for them).
import type { Config } from "./api";

export interface Eip1193 {
  request(args: { method: string; params?: unknown }): Promise<any>;
  on?(event: string, handler: (...args: any[]) => void): void;
}

export interface Wallet {
  id: string; // EIP-6963 rdns, "injected" or "local"
  name: string;
  provider: Eip1193;
}

export class RpcError extends Error {
  constructor(
    message: string,
    public code?: number,
    public data?: unknown,
  ) {
    super(message);
  }
}

/** Calls the EIP-6963 announcements and window.ethereum back with the wallets found so far. */
export function discoverWallets(config: Config, onChange: (wallets: Wallet[]) => void): void {
  const found = new Map<string, Wallet>();
  const publish = () => onChange([...found.values()]);
  window.addEventListener("eip6963:announceProvider", (event: Event) => {
    const { info, provider } = (event as CustomEvent).detail ?? {};
    if (!info || !provider) return;
    found.set(info.rdns || info.uuid, { id: info.rdns || info.uuid, name: info.name, provider });
    publish();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  const injected = (window as any).ethereum as Eip1193 | undefined;
  if (injected && ![...found.values()].some((w) => w.provider === injected)) {
    found.set("injected", { id: "injected", name: "Browser wallet", provider: injected });
  }
  if (config.local) {
    found.set("local", { id: "local", name: "Test accounts (local chain)", provider: nodeProvider(config.rpcUrl) });
  }
  publish();
}

/** An EIP-1193 provider over a node's JSON-RPC endpoint: the node's own eth_accounts sign. */
export function nodeProvider(rpcUrl: string): Eip1193 {
  let id = 0;
  return {
    async request({ method, params }) {
      if (method === "eth_requestAccounts") method = "eth_accounts";
      if (method === "wallet_switchEthereumChain") return null;
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
      });
      const body = await response.json();
      if (body.error) throw new RpcError(body.error.message, body.error.code, body.error.data);
      return body.result;
    },
  };
}

export async function chainIdOf(provider: Eip1193): Promise<number> {
  return Number(await provider.request({ method: "eth_chainId" }));
}

/** Ask the wallet to switch to the page's chain, adding it when the wallet does not know it. */
export async function switchChain(provider: Eip1193, config: Config): Promise<void> {
  const chainId = "0x" + config.chainId.toString(16);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (err: any) {
    if (err?.code !== 4902 && !/unrecognized|unknown chain|not added/i.test(String(err?.message))) throw err;
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId,
          chainName: `VVV ${config.network}`,
          rpcUrls: [config.rpcUrl],
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        },
      ],
    });
  }
}

/** The words of a wallet error: declined, unsupported, or its message. */
/** The EIP712Domain type of a domain with name, version, chain id and contract (what wallets sign). */
export const EIP712_DOMAIN = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

export function walletErrorText(err: any): string {
  if (err?.code === 4001) return "you declined the request in the wallet";
  if (err?.code === 4100) return "the wallet has not authorized this account";
  if (err?.code === 4200) return "the wallet does not support this request";
  return String(err?.shortMessage ?? err?.message ?? err).split("\n")[0];
}
