#!/usr/bin/env node
// Reference StandardMerkleTree from @openzeppelin/merkle-tree, for cross-implementation tests
// and benchmarks. Reads {"values": [[address, "stake"], ...]} on stdin (or a file given as the
// first argument), writes {"root", "proofs", "dump"} as JSON on stdout.
"use strict";
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require(path.join(__dirname, "..", "node_modules", "@openzeppelin", "merkle-tree"));

const input = JSON.parse(fs.readFileSync(process.argv[2] || 0, "utf8"));
const tree = StandardMerkleTree.of(input.values, ["address", "uint256"]);
const proofs = input.values.map((_, i) => tree.getProof(i));
process.stdout.write(JSON.stringify({ root: tree.root, proofs, dump: tree.dump() }));
