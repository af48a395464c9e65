// `npm run build`: the staking page from web/ into web/dist (no CDN: everything is bundled).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { abis } from "./abis-plugin.mjs";

const web = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: web,
  base: "./",
  plugins: [abis(fileURLToPath(new URL("../.build", import.meta.url)))],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: true },
});
