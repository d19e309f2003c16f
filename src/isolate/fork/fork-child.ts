import { closeSync, openSync, readSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import type { CallOutcome, ChildOptions, IsolatedChild, StartFailure } from "../child.js";
import { diedOfV8OutOfMemory, oomKillCount } from "../oom-signals.js";
import type { ChildMessage, RunMessage } from "../protocol.js";
import { ScratchFiles } from "../scratch.js";
import { loadForkAddon } from "./addon.js";
import { ANSWER_HEAD, ANSWER_MAGIC, ENTERED_MAGIC, type ForkRequest } from "./protocol.js";
import type { ForkCall, ForkEnd, ForkTemplate } from "./template.js";
import { leaseTemplate, type TemplateLease } from "./templates.js";

const NODE_BAD_OPTION = 9;
let nextTag = 1;

/** A call tag unique in this process (see `ForkRequest.tag`). */
function takeTag(): number {
  const tag = nextTag;
  nextTag = nextTag >= 0xffffffff ? 1 : nextTag + 1;
  return tag;
}
// Answer files: one per call in flight, reused, created exclusively by this process.
const answers = new ScratchFiles();

type Answer = { kind: "message"; message: ChildMessage } | { kind: "entered" | "none" };

/** What the child left in its answer file: its message, only the "entered" mark, or nothing of this call. */
function readAnswer(path: string, tag: number): Answer {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(ANSWER_HEAD);
    if (readSync(fd, head, 0, ANSWER_HEAD, 0) < ANSWER_HEAD || head.readUInt32LE(4) !== tag) return { kind: "none" };
    if (head.readUInt32LE(0) === ENTERED_MAGIC) return { kind: "entered" };
    if (head.readUInt32LE(0) !== ANSWER_MAGIC) return { kind: "none" };
    const body = Buffer.allocUnsafe(head.readUInt32LE(8));
    let done = 0;
    while (done < body.length) {
      const n = readSync(fd, body, done, body.length - done, ANSWER_HEAD + done);
      if (n === 0) return { kind: "entered" };
      done += n;
    }
    return { kind: "message", message: deserialize(body) as ChildMessage };
  } finally {
    closeSync(fd);
  }
}

/**
 * Fork mode's `IsolatedChild`: a handle on the shared template that forks one fresh child per
 * call. The handle is ready as soon as the template is; `call` forks, waits for the template to
 * report the child's exit, then reads the answer the child left in shared memory.
 */
export class ForkChild implements IsolatedChild {
  readonly mode = "fork" as const;
  readonly ready: Promise<void>;
  isReady = false;
  calls = 0;
  exited = false;
  readonly #lease: TemplateLease;
  #template: ForkTemplate;
  #call: ForkCall | undefined;
  #killedByUs = false;
  // Read when the handle is made (a spare, off the call's path), like process mode's children.
  readonly #oomKillsAtStart = oomKillCount();

  constructor(options: ChildOptions) {
    loadForkAddon();
    this.#lease = leaseTemplate(options);
    this.#template = this.#lease.current();
    this.ready = this.#template.ready.then(
      () => {
        this.isReady = true;
      },
      (exit: { code: number | null; signal: string | null; stderr: string; cause?: unknown }) => {
        this.exited = true;
        this.#lease.release();
        // Node exits with 9 when it refuses its command line (a bad execArgv flag).
        const phase = exit.code === NODE_BAD_OPTION || exit.cause !== undefined ? "spawn" : "boot";
        throw { phase, ...exit } satisfies StartFailure;
      },
    );
    this.ready.catch(() => {});
  }

  async call(message: RunMessage): Promise<CallOutcome> {
    this.calls++;
    // Throws at once (DataCloneError) when the arguments cannot be serialized: nothing forked.
    const answer = answers.take();
    const tag = takeTag();
    const payload = serialize({ ...message, answer, tag } satisfies ForkRequest);
    if (message.task.kind === "module") this.#lease.sawModule(message.task.url);
    let orphaned = false;
    try {
      const template = await this.#pick();
      if (typeof template === "string") return this.#notRun(template);
      this.#template = template;
      this.#call = template.fork(tag, payload);
      const end = await this.#call.ended;
      // A child orphaned by its template's death is killed by the kernel, but is not reaped by
      // anyone who tells us: never hand its answer file to another call.
      orphaned = end.kind === "orphaned";
      // A child that died abnormally may have written V8's out-of-memory report just before: it
      // is in the stderr pipe already (written before the exit), read in this same loop turn.
      if (end.kind !== "exited" || end.code !== 0) await new Promise((resolve) => setImmediate(resolve));
      return this.#outcome(end, answer, tag);
    } finally {
      answers.give(answer, orphaned);
      this.exited = true;
      // The last call in flight no longer needs the template to keep the event loop alive.
      if (this.#template.active === 0) this.#template.unref();
      this.#lease.release();
    }
  }

  /**
   * The template to fork from: a successor that preloads more modules once it is ready, or a
   * replacement when this handle's template died while idle (the call then waits for its start).
   * A string says why no template could be had.
   */
  async #pick(): Promise<ForkTemplate | string> {
    const latest = this.#lease.current();
    if (latest === this.#template || latest.isReady) return latest;
    if (!this.#template.exited) return this.#template;
    try {
      await latest.ready;
      return latest;
    } catch {
      return `the replacement fork template failed to start\n${latest.stderr.lines()}`;
    }
  }

  #notRun(reason: string, code: number | null = null, signal: string | null = null): CallOutcome {
    return { type: "exit", exit: { code, signal, stderr: reason, outOfMemory: undefined }, entered: false };
  }

  #outcome(end: ForkEnd, answer: string, tag: number): CallOutcome {
    const oomKills = this.#oomKillsAtStart;
    const left = readAnswer(answer, tag);
    // "not-run" only if the child never marked its answer file: a template stopped between its
    // fork and its report can leave a child that did run.
    if (end.kind === "not-run" && left.kind === "none") {
      return this.#notRun(`${end.reason}\n${this.#template.stderr.lines()}`, end.code, end.signal);
    }
    if (end.kind === "not-run" && left.kind === "message") return left.message as CallOutcome;
    if (left.kind === "message" && end.kind === "exited" && end.code === 0) return left.message as CallOutcome;
    const code = end.kind === "exited" ? end.code : null;
    const signal = end.kind === "exited" ? end.signal : "SIGKILL";
    const stderr = this.#template.stderr.lines();
    const pid = end.kind === "not-run" ? undefined : end.pid;
    const heap = pid !== undefined && diedOfV8OutOfMemory(this.#template.outOfMemory(pid), code, signal);
    const after = oomKillCount();
    const system =
      signal === "SIGKILL" && !this.#killedByUs && oomKills !== undefined && after !== undefined && after > oomKills;
    const outOfMemory = heap ? "heap" : system ? "system" : undefined;
    return { type: "exit", exit: { code, signal, stderr, outOfMemory }, entered: left.kind !== "none" };
  }

  kill(): void {
    const call = this.#call;
    if (call !== undefined) {
      this.#killedByUs = true;
      this.#template.killCall(call.id);
    } else if (!this.exited) {
      // An idle handle holds nothing but its lease on the template.
      this.exited = true;
      this.#lease.release();
    }
  }

  ref(): void {
    this.#template.ref();
  }

  unref(): void {
    // The template stays referenced while any call is in flight on it.
    if (this.#template.active === 0) this.#template.unref();
  }

  rssBytes(): number | undefined {
    // Before the fork, the template's: the child starts as a copy of it.
    const pid = this.#call?.pid;
    return pid === undefined ? this.#template.rssBytes() : this.#template.rssBytes(pid);
  }
}
