"""The API side: an OpenAI-compatible gateway that meters VCU per account and API key, and the
keys themselves. May import chain, oracle and staker."""
