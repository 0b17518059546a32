import { defineConfig } from "vite";

declare const process: { env: Record<string, string | undefined> };

// The API serves webui/dist at "/"; `npm run dev` proxies the API and the socket to it.
const backend = process.env.CONFAB_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/api": backend,
      "/healthz": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
});
