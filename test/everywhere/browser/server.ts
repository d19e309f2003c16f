import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";

/** The two origins' worth of pages the browser test needs, both served from 127.0.0.1 only. */
export interface TestServer {
  /** e.g. `http://127.0.0.1:40123`; pages are `${origin}/plain/` and `${origin}/isolated/`. */
  readonly origin: string;
  close(): Promise<void>;
}

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

/** The headers that make a page cross-origin isolated, so it gets SharedArrayBuffer. */
export const isolationHeaders: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/**
 * Serves `/plain/<name>` with no special headers and `/isolated/<name>` with COOP/COEP, where
 * `<name>` is `index.html`, a file in `bundleDir` or the `.wasm` fixture. Nothing else is served.
 */
export async function startServer(bundleDir: string, wasmFile: string): Promise<TestServer> {
  const server: Server = createServer(async (request, response) => {
    const match = /^\/(plain|isolated)\/([\w.-]*)$/.exec(new URL(request.url ?? "/", "http://x").pathname);
    const [, scope, file = ""] = match ?? [];
    const name = file === "" ? "index.html" : file;
    const extension = name.slice(name.lastIndexOf("."));
    const headers = { "Content-Type": types[extension] ?? "application/octet-stream", "Cache-Control": "no-store" };
    if (scope === "isolated") Object.assign(headers, isolationHeaders);
    try {
      if (match === null || types[extension] === undefined) throw new Error("not served");
      const body =
        name === "index.html"
          ? `<!doctype html><title>memkit ${scope}</title><p>memkit ${scope} page</p>`
          : await readFile(name === basename(wasmFile) ? wasmFile : `${bundleDir}/${name}`);
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
