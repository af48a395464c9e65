"""Fixtures of the gateway tests that run on a deployed system."""

from tests.oracle.conftest import g, world  # noqa: F401 (a staked system and a usage store)
