#!/usr/bin/env node
// Project-owned solc front end: the npm `solc` package (solcjs, WebAssembly) behind the
// command-line surface that py-solc-x / ape-solidity and Slither use:
//   solc --version
//   solc --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths ...] < input.json
// Only the compiler's JSON goes to stdout (solcjs' own CLI prints an SMT notice there, which
// breaks JSON parsing). Imports resolve against --base-path, --include-path, the current
// folder and the project's node_modules, so `@openzeppelin/...` is found by every caller.
"use strict";
const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..");
const solc = require(path.join(projectRoot, "node_modules", "solc"));

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, roots: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--version" || a === "-v") opts.version = true;
    else if (a === "--standard-json") opts.standardJson = true;
    else if (a === "--base-path" || a === "--include-path") opts.roots.push(argv[++i]);
    else if (a === "--allow-paths") i++;
    else if (a.startsWith("--base-path=") || a.startsWith("--include-path="))
      opts.roots.push(a.slice(a.indexOf("=") + 1));
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write("solc, the solidity compiler commandline interface\n");
    process.stdout.write(`Version: ${solc.version()}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write("tools/solc.js supports only --version and --standard-json\n");
    return 2;
  }
  const roots = [...opts.roots, process.cwd(), path.join(projectRoot, "node_modules"), projectRoot];
  const findImports = (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((r) => path.resolve(r, importPath));
    for (const c of candidates) {
      try {
        return { contents: fs.readFileSync(c, "utf8") };
      } catch (_) {
        /* try the next root */
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
  const input = fs.readFileSync(0, "utf8");
  process.stdout.write(solc.compile(input, { import: findImports }));
  return 0;
}

process.exitCode = main();
