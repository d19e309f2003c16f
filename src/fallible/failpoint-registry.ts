import { InvalidArgumentError } from "../internal/errors.js";
import { deriveSeed, freshSeed, seededU32 } from "../internal/random.js";
import { checkSize } from "../internal/validate.js";
import { InvalidFailpointError } from "./errors.js";
import { type FailpointAction, parseFailpointSpec } from "./failpoint-spec.js";

/** @internal One configured failpoint. */
export interface Point {
  readonly spec: string;
  readonly actions: readonly FailpointAction[];
  /** Per action: how many more times it may be taken. */
  readonly remaining: number[];
  random: () => number;
  /** `cfg_callback`: run on every hit instead of an action chain. */
  readonly callback: (() => void) | undefined;
  /** Resolves when this configuration is replaced or removed (what `pause` waits for). */
  readonly replaced: Promise<void>;
  readonly release: () => void;
}

/** @internal The configured failpoints of this realm. */
export const points: Map<string, Point> = new Map();
let seed: number | undefined;
let envLoaded = false;
let envError: Error | undefined;

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

function checkSeed(value: unknown, what: string): number {
  return checkSize(value, `${what} (a whole number in 0..2^32-1)`, 0, 2 ** 32 - 1);
}

/** @internal The seed every failpoint's generator derives from (drawn once when not set). */
export function currentSeed(): number {
  ensureEnv();
  seed ??= freshSeed();
  return seed;
}

/** @internal Re-seeds every failpoint's generator from `next`. */
export function reseed(next: unknown): void {
  ensureEnv();
  seed = checkSeed(next, "failpoint seed");
  for (const [name, point] of points) point.random = seededU32(deriveSeed(seed, name));
}

/** @internal Builds (and validates) a point; nothing is applied. */
export function makePoint(name: unknown, spec: unknown): Point {
  if (typeof name !== "string" || name === "" || /[;=]/.test(name))
    throw new InvalidArgumentError(
      `A failpoint name must be a non-empty string without ";" or "=", got ${String(name)}`,
    );
  let release = () => {};
  const replaced = new Promise<void>((resolve) => {
    release = resolve;
  });
  const random = seededU32(deriveSeed(currentSeed(), name));
  if (typeof spec === "function") {
    const callback = spec as () => void;
    return { spec: "<callback>", actions: [], remaining: [], random, callback, replaced, release };
  }
  if (typeof spec !== "string") throw new InvalidFailpointError(String(spec), "a spec is a string or a callback");
  const actions = parseFailpointSpec(spec);
  return { spec, actions, remaining: actions.map((a) => a.count), random, callback: undefined, replaced, release };
}

/** @internal Installs points, releasing any paused caller of the ones replaced. */
export function install(entries: readonly (readonly [string, Point | undefined])[]): void {
  for (const [name, point] of entries) {
    points.get(name)?.release();
    if (point === undefined) points.delete(name);
    else points.set(name, point);
  }
}

/**
 * A run configured from the environment has no report of its own: when its chances come from a
 * drawn seed, say which on stderr, so a failing run can be replayed with MEMKIT_FAILPOINTS_SEED.
 */
function announceSeed(parsed: readonly [string, Point][], seedText: string | undefined): void {
  if (seedText !== undefined && seedText.trim() !== "") return;
  if (!parsed.some(([, p]) => p.actions.some((a) => a.probability < 1))) return;
  const text = `memkit failpoints: seed ${currentSeed()} (replay with MEMKIT_FAILPOINTS_SEED=${currentSeed()})`;
  const stderr = (globalThis as { process?: { stderr?: { write?: (s: string) => void } } }).process?.stderr;
  if (stderr?.write !== undefined) stderr.write(`${text}\n`);
  else console.error(text);
}

/**
 * @internal Reads MEMKIT_FAILPOINTS (and MEMKIT_FAILPOINTS_SEED) once, all or nothing: a bad entry
 * applies none of them and every later failpoint call throws the same error.
 */
export function ensureEnv(): void {
  if (envError !== undefined) throw envError;
  if (envLoaded) return;
  envLoaded = true;
  try {
    const seedText = env("MEMKIT_FAILPOINTS_SEED");
    if (seedText !== undefined && seedText.trim() !== "") {
      if (!/^\d+$/.test(seedText.trim()))
        throw new InvalidArgumentError(
          `MEMKIT_FAILPOINTS_SEED must be a whole number in 0..2^32-1, got ${JSON.stringify(seedText)}`,
        );
      seed = checkSeed(Number(seedText.trim()), "MEMKIT_FAILPOINTS_SEED");
    }
    const spec = env("MEMKIT_FAILPOINTS");
    if (spec === undefined || spec.trim() === "") return;
    const parsed: [string, Point][] = [];
    for (const entry of spec
      .split(";")
      .map((e) => e.trim())
      .filter(Boolean)) {
      const eq = entry.indexOf("=");
      if (eq <= 0)
        throw new InvalidFailpointError(entry, `MEMKIT_FAILPOINTS entries are name=actions, separated by ";"`);
      const name = entry.slice(0, eq).trim();
      parsed.push([name, makePoint(name, entry.slice(eq + 1).trim())]);
    }
    install(parsed);
    announceSeed(parsed, seedText);
  } catch (error) {
    envError = error as Error;
    throw error;
  }
}
