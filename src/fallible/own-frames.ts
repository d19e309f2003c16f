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

const prefixes: readonly string[] = ["../heap/", "../fallible/", "../internal/"].flatMap((dir) => {
  const url = new URL(dir, import.meta.url).href;
  const path = pathOf(url);
  return path === undefined ? [url] : [url, path];
});

/** @internal True when a stack line points into memkit's own heap, fallible or internal modules. */
export function isOwnFrame(line: string): boolean {
  for (const prefix of prefixes) if (line.includes(prefix)) return true;
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
