import type { ChildOptions } from "../child.js";
import { ForkTemplate } from "./template.js";

/**
 * The fork templates of this process, one per set of child options, shared by every fork-mode
 * handle with those options. A template also imports the modules that calls have run (the module
 * form): when a call names a module the template has not loaded, a new template that loads it
 * too is started in the background and takes over once ready, so later calls start with the
 * module already in memory. The old one retires when its calls in flight end.
 */
const MAX_PRELOAD = 16;
/**
 * A fork request unanswered this long means the template is stuck (SIGSTOP, a bug): it is replaced.
 * Read when a template starts, not at import, so a test can shorten it after memkit is loaded.
 */
const forkDeadlineMs = (): number => Number(process.env.MEMKIT_FORK_DEADLINE_MS) || 5000;
/** A template no handle used for this long is ended. */
const UNUSED_MS = 100;

interface Entry {
  template: ForkTemplate;
  /** Its successor, starting with more modules preloaded. */
  next: ForkTemplate | undefined;
  preload: string[];
  /** Modules that failed to load in a template: never preloaded again. */
  refused: Set<string>;
  users: number;
  unusedTimer: NodeJS.Timeout | undefined;
}

const entries = new Map<string, Entry>();

function keyOf(options: ChildOptions): string {
  return JSON.stringify([options.memoryLimitMb, options.execArgv, options.output, options.env ?? null]);
}

function start(options: ChildOptions, preload: readonly string[]): ForkTemplate {
  return new ForkTemplate({ ...options, preload, forkDeadlineMs: forkDeadlineMs() });
}

/** A handle's lease on the template for its options. */
export interface TemplateLease {
  /** The template to fork the next call from (replaced when it died or a successor is ready). */
  current(): ForkTemplate;
  /** Notes that a call ran module `url`, so later templates preload it. */
  sawModule(url: string): void;
  release(): void;
}

function current(entry: Entry, options: ChildOptions): ForkTemplate {
  const { next } = entry;
  if (next?.isReady) {
    entry.template.retire();
    entry.template = next;
    entry.next = undefined;
  } else if (next?.exited) {
    // The successor died starting: one of the new modules cannot load in a template.
    for (const url of entry.preload) if (!next.preloaded.includes(url)) entry.refused.add(url);
    entry.next = undefined;
  }
  if (entry.template.exited) entry.template = start(options, entry.template.preloaded);
  return entry.template;
}

/**
 * Takes a lease on the template for `options`, starting it if needed.
 *
 * @param options The child options of the isolator.
 * @returns The lease.
 */
export function leaseTemplate(options: ChildOptions): TemplateLease {
  const key = keyOf(options);
  let entry = entries.get(key);
  if (entry === undefined) {
    entry = {
      template: start(options, []),
      next: undefined,
      preload: [],
      refused: new Set(),
      users: 0,
      unusedTimer: undefined,
    };
    entries.set(key, entry);
  }
  const held = entry;
  held.users++;
  if (held.unusedTimer !== undefined) clearTimeout(held.unusedTimer);
  held.unusedTimer = undefined;
  let released = false;
  return {
    current: () => current(held, options),
    sawModule(url) {
      if (held.preload.includes(url) || held.refused.has(url) || held.preload.length >= MAX_PRELOAD) return;
      held.preload.push(url);
      held.next?.kill();
      held.next = start(options, [...held.preload]);
    },
    release() {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      held.unusedTimer = setTimeout(() => {
        if (held.users > 0) return;
        entries.delete(key);
        held.template.retire();
        held.next?.kill();
      }, UNUSED_MS);
      held.unusedTimer.unref();
    },
  };
}
