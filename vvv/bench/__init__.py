"""Measurements for bench/ and the gas budget tests. Imports vvv.chain and vvv.oracle."""
