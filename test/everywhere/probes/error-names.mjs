// Whether memkit errors keep their class names in a minified bundle: `name` is what logs and
// `reviveError` (across a page and its workers, bundled separately) rely on.
import { InvalidSizeError, reviveError, serializeError } from "memkit";

export default async function errorNames() {
  const error = new InvalidSizeError("size must be a whole number, got 1.5", 1.5);
  const revived = reviveError(structuredClone(serializeError(error)));
  return { name: error.name, revivedName: revived.name, code: revived.code };
}
