#!/usr/bin/env node
// Benchmark worker: build @openzeppelin/merkle-tree's StandardMerkleTree from a values file
// ({"values": [[address, "stake"], ...]}) and write its standard-v1 dump. Prints the root.
"use strict";
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require(path.join(__dirname, "..", "node_modules", "@openzeppelin", "merkle-tree"));

const [input, output] = process.argv.slice(2);
const { values } = JSON.parse(fs.readFileSync(input, "utf8"));
const tree = StandardMerkleTree.of(values, ["address", "uint256"]);
fs.writeFileSync(output, JSON.stringify(tree.dump()));
process.stdout.write(tree.root + "\n");
