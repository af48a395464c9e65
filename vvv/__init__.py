"""VVV staking, daily emissions and VCU allotments: the tooling around the contracts.

One subpackage per concern, each importing only those below it (checked by `make lint`):
`chain` < `oracle` < `staker` < `demo` and `bench`."""
