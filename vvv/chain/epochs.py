"""Epoch arithmetic: epoch `e` covers timestamps [e*86400, (e+1)*86400)."""

EPOCH_LENGTH = 86_400


def epoch_of(timestamp: int) -> int:
    """The epoch (UTC day number) containing `timestamp`."""
    return timestamp // EPOCH_LENGTH


def epoch_start(epoch: int) -> int:
    return epoch * EPOCH_LENGTH


def snapshot_time(epoch: int) -> int:
    """Snapshot of the report of `epoch`: its last second, (epoch + 1) * 86400 - 1."""
    return (epoch + 1) * EPOCH_LENGTH - 1


def activity_window(epoch: int, days: int = 7) -> tuple[int, int]:
    """The API-activity window for the allotments of `epoch + 1`: epochs `epoch-6 .. epoch`,
    as timestamps [start, end] inclusive."""
    return epoch_start(epoch - days + 1), snapshot_time(epoch)
