// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title EpochTrace
/// @notice A history of a value by epoch (OpenZeppelin's `Checkpoints`, for values below 2^96
///         keyed by epochs below 2^32), laid out for the activation traces of ComputeRights,
///         which are written only at one epoch (the next) and read mostly at the latest:
///
///         ```
///         head:    | spare (96) | value (96) | epoch (32) | count (32) |   the latest checkpoint
///         past[i]: | spare (128) | value (96) | epoch (32) |              checkpoint i < count - 1
///         ```
///
///         The latest checkpoint lives in the head slot with the count, so an account's first
///         activation writes one fresh slot (OpenZeppelin's trace writes two: its length and its
///         first checkpoint), a write at the latest epoch rewrites the head only, and a write at
///         a later epoch moves the old latest into `past` (one fresh slot, as OpenZeppelin's).
library EpochTrace {
    struct Head {
        uint32 count;
        uint32 epoch;
        uint96 value;
    }

    struct Point {
        uint32 epoch;
        uint96 value;
    }

    struct Trace {
        Head head;
        mapping(uint256 index => Point) past;
    }

    /// @notice An epoch before the latest checkpoint's was written (histories only grow).
    error EpochBeforeLatest(uint256 epoch, uint256 latest);

    /// @notice Sets the value from `epoch` on (`epoch` at least the latest checkpoint's).
    ///         `epoch < 2^32` and `value < 2^96` are the caller's to ensure (truncated).
    function push(Trace storage self, uint256 epoch, uint256 value) internal {
        Head memory head = self.head;
        if (head.count != 0) {
            if (epoch == head.epoch) {
                self.head.value = uint96(value);
                return;
            }
            if (epoch < head.epoch) revert EpochBeforeLatest(epoch, head.epoch);
            self.past[head.count - 1] = Point({epoch: head.epoch, value: head.value});
        }
        self.head = Head({count: head.count + 1, epoch: uint32(epoch), value: uint96(value)});
    }

    /// @notice The latest value (0 for an empty trace).
    function latest(Trace storage self) internal view returns (uint256) {
        return self.head.value;
    }

    /// @notice The value at `epoch`: that of the last checkpoint at or before it (0 if none).
    function at(Trace storage self, uint256 epoch) internal view returns (uint256) {
        Head memory head = self.head;
        if (head.count == 0) return 0;
        if (epoch >= head.epoch) return head.value;
        // binary search of the last past checkpoint with epoch <= `epoch` among past[0, count - 1)
        uint256 low = 0;
        uint256 high = head.count - 1;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (self.past[mid].epoch > epoch) high = mid;
            else low = mid + 1;
        }
        return high == 0 ? 0 : self.past[high - 1].value;
    }
}
