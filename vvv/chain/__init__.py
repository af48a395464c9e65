"""Chain layer: contracts deployment and wiring, epochs, units, permits, CLI plumbing. Imports nothing else of vvv."""
