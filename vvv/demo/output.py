"""Where a demo run writes its plots, summary, usage store and proofs files: a fresh folder, so
that a run never replaces another run's results unless told to.

- No `--out`: a new folder `demo-out/<UTC time of the run>` (with `-2`, `-3`, ... when that
  name is taken).
- `--out DIR`: DIR must not exist or be empty; a non-empty DIR is refused unless `overwrite`
  (then the run's files in it are replaced, others are left as they are)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

DEFAULT_PARENT = Path("demo-out")


class OutputError(ValueError):
    """The demo's output folder cannot be used as asked."""


def fresh_folder(parent: Path, now: datetime) -> Path:
    """`parent/<YYYY-MM-DDTHH-MM-SSZ>`, or with a suffix when that folder exists."""
    stem = now.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    candidate, n = parent / stem, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{stem}-{n}"
    return candidate


def output_folder(out: Path | None, overwrite: bool, now: datetime | None = None) -> Path:
    """The folder the run writes into (not created yet); refuses one that holds anything unless
    `overwrite`."""
    if out is None:
        if overwrite:
            raise OutputError("--overwrite needs --out: without it every run writes into a new folder")
        return fresh_folder(DEFAULT_PARENT, now or datetime.now(UTC))
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputError(f"--out {out} is not empty (an earlier run's results?): choose a new folder, "
                          "or add --overwrite to replace them")  # fmt: skip
    return out
