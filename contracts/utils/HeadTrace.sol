// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title HeadTrace
/// @notice A history of a value by key (OpenZeppelin's `Checkpoints`, for values below 2^104
///         keyed by epochs or timestamps below 2^48), laid out for traces that are written only
///         at their latest key or a later one and read mostly at the latest: ComputeRights'
///         activations (keyed by epoch) and VVVStaking's locked stake (keyed by timestamp).
///
///         ```
///         head:    | spare (72) | value (104) | key (48) | count (32) |   the latest checkpoint
///         past[i]: | spare (104) | value (104) | key (48) |              checkpoint i < count - 1
///         ```
///
///         The latest checkpoint lives in the head slot with the count, so reading the latest
///         value is one storage read (OpenZeppelin's trace reads two: its length and its last
///         checkpoint), a trace's first write writes one fresh slot (OpenZeppelin's writes two),
///         a write at the latest key rewrites the head only, and a write at a later key moves
///         the old latest into `past` (one fresh slot, as OpenZeppelin's).
///
///         Values take 104 bits, not the 96 their users need: with 96-bit values VVVStaking's
///         many 96-bit masks made the compiler's constant optimizer compute the mask instead
///         of pushing it, 72 gas more on every plain stake.
library HeadTrace {
    struct Head {
        uint32 count;
        uint48 key;
        uint104 value;
    }

    struct Point {
        uint48 key;
        uint104 value;
    }

    struct Trace {
        Head head;
        mapping(uint256 index => Point) past;
    }

    /// @notice A key before the latest checkpoint's was written (histories only grow).
    error KeyBeforeLatest(uint256 key, uint256 latest);

    /// @notice Sets the value from `key` on (`key` at least the latest checkpoint's).
    ///         `key < 2^48` and `value < 2^104` are the caller's to ensure (truncated).
    function push(Trace storage self, uint256 key, uint256 value) internal {
        Head memory head = self.head;
        if (head.count != 0) {
            if (key == head.key) {
                self.head.value = uint104(value);
                return;
            }
            if (key < head.key) revert KeyBeforeLatest(key, head.key);
            self.past[head.count - 1] = Point({key: head.key, value: head.value});
        }
        self.head = Head({count: head.count + 1, key: uint48(key), value: uint104(value)});
    }

    /// @notice The latest value (0 for an empty trace).
    function latest(Trace storage self) internal view returns (uint256) {
        return self.head.value;
    }

    /// @notice The value at `key`: that of the last checkpoint at or before it (0 if none).
    function at(Trace storage self, uint256 key) internal view returns (uint256) {
        Head memory head = self.head;
        if (head.count == 0) return 0;
        if (key >= head.key) return head.value;
        // binary search of the last past checkpoint with key <= `key` among past[0, count - 1)
        uint256 low = 0;
        uint256 high = head.count - 1;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (self.past[mid].key > key) high = mid;
            else low = mid + 1;
        }
        return high == 0 ? 0 : self.past[high - 1].value;
    }
}
