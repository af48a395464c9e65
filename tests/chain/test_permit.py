"""Permit signature words: ape builds r and s from integers, so a value with a leading zero byte
arrives shorter than 32 bytes and must be padded on the left (a bytes32 argument would be
padded on the right, and the permit would fail)."""

import pytest

from vvv.chain.permit import _word


def test_short_signature_word_is_left_padded():
    assert _word(b"\x01" * 31) == b"\x00" + b"\x01" * 31
    assert _word(b"\xff" * 32) == b"\xff" * 32
    assert _word(b"") == b"\x00" * 32


def test_overlong_signature_word_is_refused():
    with pytest.raises(ValueError, match="longer than 32 bytes"):
        _word(b"\x01" * 33)
