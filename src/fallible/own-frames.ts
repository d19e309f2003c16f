/**
 * Recognises memkit's own stack frames by memkit's own module locations (the `heap/`,
 * `fallible/` and `internal/` folders next to this file, as URL and as path), never by directory
 * names: user code in a folder that happens to be called `heap/` is user code.
 */

function pathOf(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const path = decodeURIComponent(new URL(url).pathname);
  // file:///C:/x -> C:\x on Windows-style paths.
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1).replaceAll("/", "\\") : path;
}

const DIRS = ["heap", "fallible", "internal"];

/**
 * Where this very file appears in stack traces. With source maps applied (Node's
 * --enable-source-maps, Vitest) frames name the original `src/.../*.ts`, not the loaded module's
 * URL, so the root is also read from a frame of this file: whatever form stacks use, it is ours.
 */
function rootSeenInStacks(): string[] {
  const frame = (new Error("probe").stack ?? "").split("\n")[1] ?? "";
  const match = /([^\s()@]*?)([\\/])fallible\2own-frames\.[cm]?[jt]s:\d+/.exec(frame);
  if (match === null) return [];
  const [, root = "", sep = "/"] = match;
  return DIRS.map((dir) => `${root}${sep}${dir}${sep}`);
}

let prefixes: readonly string[] | undefined;

function ownPrefixes(): readonly string[] {
  if (prefixes !== undefined) return prefixes;
  const fromUrl = DIRS.flatMap((dir) => {
    const url = new URL(`../${dir}/`, import.meta.url).href;
    const path = pathOf(url);
    return path === undefined ? [url] : [url, path];
  });
  prefixes = [...new Set([...fromUrl, ...rootSeenInStacks()])];
  return prefixes;
}

/** @internal True when a stack line points into memkit's own heap, fallible or internal modules. */
export function isOwnFrame(line: string): boolean {
  for (const prefix of ownPrefixes()) if (line.includes(prefix)) return true;
  return false;
}

/** @internal The stack here, without memkit's own frames, one trimmed frame per line. */
export function userStack(): string {
  const lines = (new Error("allocation").stack ?? "").split("\n").slice(1);
  return lines
    .filter((line) => !isOwnFrame(line))
    .map((line) => line.trim())
    .join("\n");
}
