"""Staker side: positions, market, transactions, status, calc, render. Imports vvv.chain, oracle read side."""
