/**
 * Bytes from base64, with `atob` (Node >= 16, browsers, Deno, Bun): how memkit ships its small
 * WebAssembly modules inside JavaScript, so no runtime needs a file system or fetch to load them.
 */
export function bytesFromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
