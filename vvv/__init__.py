"""VVV protocol tooling: deployment, emission math, merkle trees, oracle, meter, CLI helpers."""
