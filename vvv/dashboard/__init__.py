"""The staking page's server: serves the built page (web/) and a read-only JSON API (deployment,
proofs, spend, prices, history). Holds no key and sends nothing. May import chain, oracle and staker."""
