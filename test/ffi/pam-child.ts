import { Isolator } from "memkit/isolate";

/** What test/fixtures/pam-many.mjs reports. */
export interface ManyAuthentications {
  successes: number;
  counts: { live: number; allocated: number; handedOff: number; freed: number };
}

/**
 * Runs `iterations` authentications (every other one with the wrong password) in a fresh process,
 * so a double free, which glibc turns into an abort, would reject with IsolateCrashedError instead
 * of returning these figures.
 */
export async function authenticateInChild(
  request: { service: string; confdir: string; user: string },
  iterations: number,
): Promise<ManyAuthentications> {
  const isolator = new Isolator({ spares: 0, output: "ignore" });
  const many = { module: new URL("../fixtures/pam-many.mjs", import.meta.url), export: "run" };
  try {
    return (await isolator.run(many, { args: [{ ...request, iterations }] })) as ManyAuthentications;
  } finally {
    await isolator.close();
  }
}
