"""Oracle side: prices, usage store, meter, active-set tree, proofs files, reports, bot. Imports vvv.chain."""
