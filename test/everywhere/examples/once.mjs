// The README example of `memkit/once`, runnable everywhere (one thread; the two-worker case is
// in the browser test's isolated page and in test/once).
import { AsyncOnceCell, Lazy, leak, leaked, OnceCell, SharedOnceCell } from "memkit/once";
import { check } from "./check.mjs";

export default async function onceExample() {
  let builds = 0;
  const table = new Lazy(() => {
    builds++;
    return [1, 2, 3];
  });
  const first = table.force();
  check(table.force() === first && table.get() === first && builds === 1, "Lazy builds once");

  const config = new OnceCell();
  let threw = false;
  try {
    config.getOrInit(() => {
      throw new Error("not yet");
    });
  } catch {
    threw = true;
  }
  check(threw && config.get() === undefined, "a throwing init leaves the cell empty");
  check(config.getOrInit(() => ({ port: 80 })).port === 80, "the next call retries");

  let connects = 0;
  const db = new AsyncOnceCell({ retries: 2 });
  const connect = async () => ({ id: ++connects });
  const [a, b] = await Promise.all([db.getOrInit(connect), db.getOrInit(connect, { timeoutMs: 1000 })]);
  check(a === b && connects === 1, "concurrent callers share one attempt");

  let answer;
  if (typeof SharedArrayBuffer === "function") {
    const shared = new SharedOnceCell({ capacity: 1 << 16 });
    const map = shared.getOrInitSync(() => new Map([["answer", 42]]));
    const again = SharedOnceCell.attach(shared.buffer).getOrInitSync(() => new Map());
    check(map.get("answer") === 42 && again.get("answer") === 42, "an attached cell sees the published value");
    answer = again.get("answer");
  } else {
    // A page that is not cross-origin isolated has no SharedArrayBuffer: the cell says so with a code.
    let code;
    try {
      new SharedOnceCell();
    } catch (error) {
      code = error.code;
    }
    check(
      code === "ERR_MEMKIT_SHARED_MEMORY_UNAVAILABLE",
      "without SharedArrayBuffer a SharedOnceCell is a typed error",
    );
    answer = new OnceCell().getOrInit(() => new Map([["answer", 42]])).get("answer");
  }

  const pin = leak(() => {}, "handed to native code");
  check(leaked().includes(pin), "leak() is visible in leaked()");
  pin.release();
  check(!leaked().includes(pin), "release() undoes it");
  return { builds, connects, answer };
}
