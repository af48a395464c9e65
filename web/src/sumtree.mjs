// The active set's sorted Merkle-sum tree (SPEC, "EpochOracle"), for the web page: rebuild the
// tree from a proofs file's leaves, compute any account's proof, and verify a proof.
//
// Plain ES module with JSDoc types (no TypeScript compiler in package.json). Its one dependency,
// @noble/hashes (keccak), is in package-lock.json through @openzeppelin/merkle-tree's deps.
//
// Leaves [account, stake] sorted strictly ascending by account at positions 0..n-1; a complete
// binary tree of depth ceil(log2(n)) (0 for one leaf), padded on the right with empty leaves
// (hash 0, sum 0). Leaf hash keccak256(keccak256(abi.encode(account, stake))), sum = stake;
// inner hash keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum)), sum = leftSum +
// rightSum. The empty set has root 0, sum 0, count 0. Same as vvv/oracle/sumtree.py.

import { keccak_256 } from "@noble/hashes/sha3.js";

/** @typedef {[string, string | bigint]} Leaf  [account (0x + 40 hex), stake] */
/** @typedef {[string, string | bigint]} Sibling  [hash (0x + 64 hex), sum] */
/** @typedef {{position: number, siblings: Array<[string, string]>}} Proof */

export const UINT256 = 1n << 256n;
export const ZERO_ROOT = "0x" + "00".repeat(32);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** ceil(log2(count)); 0 for zero or one leaf. @param {number} count @returns {number} */
export function depthFor(count) {
  return count > 1 ? (count - 1).toString(2).length : 0;
}

/** @param {Uint8Array} bytes @returns {string} */
export function toHex(bytes) {
  let out = "0x";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** @param {string} hex (no 0x) @param {Uint8Array} into @param {number} offset */
function putHex(hex, into, offset) {
  for (let i = 0; i < hex.length / 2; i++) into[offset + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

/** @param {string | bigint | number} value @param {string} what @returns {bigint} */
function uint(value, what) {
  let v;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  else if (typeof value === "string" && DECIMAL.test(value)) v = BigInt(value);
  if (v === undefined || v < 0n || v >= UINT256) throw new Error(`${what} ${String(value)} is not a uint256`);
  return v;
}

/** @param {string} account @returns {string} 40 lower-case hex digits */
function address(account) {
  if (typeof account !== "string" || !ADDRESS.test(account)) throw new Error(`${String(account)} is not an address`);
  return account.slice(2).toLowerCase();
}

/** Write uint256 `v` big-endian at `offset`. @param {bigint} v @param {Uint8Array} into @param {number} offset */
function putWord(v, into, offset) {
  const view = new DataView(into.buffer, into.byteOffset + offset, 32);
  for (let i = 3; i >= 0; i--, v >>= 64n) view.setBigUint64(8 * i, BigInt.asUintN(64, v));
}

/** keccak256(keccak256(abi.encode(account, stake))). @param {string} account @param {string | bigint} stake */
export function leafHash(account, stake) {
  const buf = new Uint8Array(64);
  putHex(address(account), buf, 12);
  putWord(uint(stake, "stake"), buf, 32);
  return keccak_256(keccak_256(buf));
}

/** keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum)).
 * @param {Uint8Array} leftHash @param {bigint} leftSum @param {Uint8Array} rightHash @param {bigint} rightSum */
export function nodeHash(leftHash, leftSum, rightHash, rightSum) {
  const buf = new Uint8Array(128);
  buf.set(leftHash, 0);
  putWord(leftSum, buf, 32);
  buf.set(rightHash, 64);
  putWord(rightSum, buf, 96);
  return keccak_256(buf);
}

/** @param {string} hex @param {string} what @returns {Uint8Array} */
function bytes32(hex, what) {
  if (typeof hex !== "string" || !BYTES32.test(hex)) throw new Error(`${what} ${String(hex)} is not 32 bytes`);
  const out = new Uint8Array(32);
  putHex(hex.slice(2), out, 0);
  return out;
}

/** The top {hash, sum} that a path leads to from (leaf, leafSum); null if a sum overflows uint256.
 * @param {Uint8Array} leaf @param {bigint} leafSum @param {number} position @param {Sibling[]} siblings */
export function processProof(leaf, leafSum, position, siblings) {
  let hash = leaf;
  let sum = leafSum;
  for (let level = 0; level < siblings.length; level++) {
    const h = bytes32(siblings[level][0], "sibling hash");
    const s = uint(siblings[level][1], "sibling sum");
    const right = Math.floor(position / 2 ** level) % 2 === 1;
    hash = right ? nodeHash(h, s, hash, sum) : nodeHash(hash, sum, h, s);
    sum += s;
    if (sum >= UINT256) return null;
  }
  return { hash, sum };
}

/** Whether the proof (position, siblings) shows leaf (account, stake) in the tree with top hash
 * `root`, top sum `total` and `count` leaves: position < count, siblings.length is the depth
 * `count` implies, and the path leads to exactly (root, total). Throws on malformed arguments.
 * @param {string} account @param {string | bigint} stake @param {number} position
 * @param {Sibling[]} siblings @param {string} root @param {string | bigint} total
 * @param {number | bigint | string} count @returns {boolean} */
export function verifyProof(account, stake, position, siblings, root, total, count) {
  const leaf = leafHash(account, stake);
  const top = bytes32(root, "root");
  const sum = uint(total, "total");
  const n = uint(count, "count");
  if (!Number.isSafeInteger(position) || position < 0 || BigInt(position) >= n) return false;
  if (!Array.isArray(siblings) || siblings.length !== depthFor(Number(n))) return false;
  const result = processProof(leaf, uint(stake, "stake"), position, siblings);
  return result !== null && result.sum === sum && toHex(result.hash) === toHex(top);
}

/** Rebuild the tree of `leaves` (sorted strictly ascending by account). Each level is one flat
 * Uint8Array of 32-byte hashes plus an array of sums, holding the nodes that cover a real leaf.
 * @param {Leaf[]} leaves */
export function buildTree(leaves) {
  const count = leaves.length;
  const depth = depthFor(count);
  const accounts = new Array(count);
  /** @type {Uint8Array[]} */ const hashes = [new Uint8Array(32 * count)];
  /** @type {bigint[][]} */ const sums = [new Array(count)];
  const leafBuf = new Uint8Array(64);
  const nodeBuf = new Uint8Array(128);
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const [account, stake] = leaves[i];
    const a = address(account);
    if (i > 0 && a <= accounts[i - 1]) {
      throw new Error(`leaf ${i}: ${a === accounts[i - 1] ? "duplicate" : "unsorted"} account 0x${a}`);
    }
    const s = uint(stake, `leaf ${i}: stake`);
    if (s === 0n) throw new Error(`leaf ${i}: stake 0`);
    putHex(a, leafBuf, 12);
    putWord(s, leafBuf, 32);
    hashes[0].set(keccak_256(keccak_256(leafBuf)), 32 * i);
    accounts[i] = a;
    sums[0][i] = s;
    total += s;
  }
  if (total >= UINT256) throw new Error(`total stake ${total} does not fit in uint256`);
  const zeroHash = [new Uint8Array(32)];
  for (let level = 0; level < depth; level++) {
    const [below, belowSums] = [hashes[level], sums[level]];
    const m = Math.ceil(belowSums.length / 2);
    const [up, upSums] = [new Uint8Array(32 * m), new Array(m)];
    for (let j = 0; j < m; j++) {
      const real = 2 * j + 1 < belowSums.length;
      const rightSum = real ? belowSums[2 * j + 1] : 0n;
      nodeBuf.set(below.subarray(64 * j, 64 * j + 32), 0);
      putWord(belowSums[2 * j], nodeBuf, 32);
      nodeBuf.set(real ? below.subarray(64 * j + 32, 64 * j + 64) : zeroHash[level], 64);
      putWord(rightSum, nodeBuf, 96);
      up.set(keccak_256(nodeBuf), 32 * j);
      upSums[j] = belowSums[2 * j] + rightSum;
    }
    hashes.push(up);
    sums.push(upSums);
    zeroHash.push(nodeHash(zeroHash[level], 0n, zeroHash[level], 0n));
  }
  const root = count ? toHex(hashes[depth]) : ZERO_ROOT;
  return {
    root,
    total,
    count,
    depth,
    /** @param {string} account @returns {number} the leaf position of account, or -1 */
    positionOf(account) {
      const a = address(account);
      let [lo, hi] = [0, count];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (accounts[mid] < a) lo = mid + 1;
        else hi = mid;
      }
      return lo < count && accounts[lo] === a ? lo : -1;
    },
    /** @param {number} position @returns {Proof} */
    proof(position) {
      if (!Number.isSafeInteger(position) || position < 0 || position >= count) {
        throw new Error(`no leaf at position ${position} (the tree has ${count} leaves)`);
      }
      const siblings = [];
      for (let level = 0; level < depth; level++) {
        const index = Math.floor(position / 2 ** level) ^ 1;
        const known = index < sums[level].length;
        const hash = known ? hashes[level].subarray(32 * index, 32 * index + 32) : zeroHash[level];
        siblings.push([toHex(hash), String(known ? sums[level][index] : 0n)]);
      }
      return { position, siblings };
    },
  };
}

/** Root, total and count of `leaves` (sorted strictly ascending by account).
 * @param {Leaf[]} leaves @returns {{root: string, total: bigint, count: number}} */
export function rootOf(leaves) {
  const { root, total, count } = buildTree(leaves);
  return { root, total, count };
}
