"""The demo: simulated stakers and traffic, run, summary, tables, plots. May import chain, oracle, staker."""
