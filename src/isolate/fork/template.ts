import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Tail } from "../child.js";
import { forkAddonPath } from "./addon.js";
import {
  frame,
  REC_EXITED,
  REC_FORK_FAILED,
  REC_FORKED,
  REC_READY,
  RECORD_BYTES,
  REQ_FORK,
  REQ_KILL,
} from "./protocol.js";

const entry = fileURLToPath(new URL("./template-main.js", import.meta.url));
const PAGE = 4096;
const KILL_GRACE_MS = 1000;
const DRAIN_MS = 250;
/** The V8 flags that make a Node process safe to fork (see native/fork/fork.c). */
export const TEMPLATE_FLAGS = ["--single-threaded", "--v8-pool-size=0"] as const;
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed - JavaScript heap/i;
// First name wins: SIGABRT before its alias SIGIOT, as Node's own exit events name it.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);

/** Options of a template, fixed for its life. */
export interface TemplateOptions {
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  readonly memoryLimitMb: number | undefined;
  readonly execArgv: readonly string[];
  readonly output: "inherit" | "ignore";
  /** Module URLs the template imports before its first fork. */
  readonly preload: readonly string[];
  /** A fork request unanswered for this long means the template is stuck: it is killed. */
  readonly forkDeadlineMs: number;
}

/** How one forked call ended, as the template saw it. */
export type ForkEnd =
  | { readonly kind: "exited"; readonly pid: number; readonly code: number | null; readonly signal: string | null }
  /** No child ever ran: the fork failed, or the template died or stalled before forking. */
  | { readonly kind: "not-run"; readonly reason: string; readonly code: number | null; readonly signal: string | null }
  /** The template died after forking: its child was killed with it (PR_SET_PDEATHSIG). */
  | { readonly kind: "orphaned"; readonly pid: number };

/** One forked call in flight. */
export interface ForkCall {
  readonly id: number;
  /** The child's pid once the template reported the fork. */
  pid: number | undefined;
  readonly ended: Promise<ForkEnd>;
}

interface Pending {
  call: ForkCall;
  settle: (end: ForkEnd) => void;
  killWanted: boolean;
  deadline: NodeJS.Timeout | undefined;
}

/**
 * The caller's side of one template process: starts it, asks it to fork, learns each child's pid
 * and exit status, and ends it. The template dies with the caller (PR_SET_PDEATHSIG, and end of
 * file on its control pipe), and its children die with it.
 */
export class ForkTemplate {
  readonly ready: Promise<void>;
  isReady = false;
  exited = false;
  /** The module URLs this template imported before its first fork. */
  readonly preloaded: readonly string[];
  readonly stderr: Tail = new Tail(1 << 16);
  readonly #child: ChildProcess;
  readonly #control: Writable;
  readonly #records: Readable;
  readonly #calls = new Map<number, Pending>();
  readonly #deadlineMs: number;
  #buffered: Buffer = Buffer.alloc(0);
  #retiring = false;

  constructor(options: TemplateOptions) {
    const execArgv = [...options.execArgv, ...TEMPLATE_FLAGS];
    if (options.memoryLimitMb !== undefined) execArgv.push(`--max-old-space-size=${options.memoryLimitMb}`);
    this.#deadlineMs = options.forkDeadlineMs;
    this.preloaded = [...options.preload];
    // The addon path travels as the first argument: the caller checked that one, whatever env it passes.
    this.#child = spawn(process.execPath, [...execArgv, entry, forkAddonPath(), ...options.preload], {
      ...(options.env === undefined ? {} : { env: options.env as NodeJS.ProcessEnv }),
      stdio: ["pipe", options.output === "inherit" ? "inherit" : "ignore", "pipe", "pipe"],
    });
    this.#control = this.#child.stdin as Writable;
    this.#records = this.#child.stdio[3] as Readable;
    // A write after the template died fails with EPIPE: its exit handler settles every call.
    this.#control.on("error", () => {});
    this.#records.on("error", () => {});
    this.#child.stderr?.setEncoding("utf8");
    this.#child.stderr?.on("data", (chunk: string) => {
      this.stderr.push(chunk);
      if (options.output === "inherit") process.stderr.write(chunk);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#records.on("data", (chunk: Buffer) =>
        this.#onRecords(chunk, () => {
          this.isReady = true;
          resolve();
        }),
      );
      let settled = false;
      const ended = (code: number | null, signal: string | null, cause?: unknown) => {
        this.exited = true;
        if (settled) return;
        settled = true;
        reject({ code, signal, stderr: this.stderr.lines(), cause });
        this.#onExit(code, signal);
      };
      // Records the template wrote before it died (a FORKED, an EXITED) may still be unread when
      // its exit is seen: read them all first, so each call is settled by what really happened.
      const drained = new Promise<void>((resolve) => {
        this.#records.once("end", resolve);
        this.#records.once("close", resolve);
        setTimeout(resolve, DRAIN_MS);
      });
      this.#child.once("exit", (code, signal) => {
        this.exited = true;
        void drained.then(() => ended(code, signal));
      });
      // spawn itself failed (EAGAIN, ENOMEM): there may be no "exit" event.
      this.#child.once("error", (error) => ended(null, null, error));
    });
    this.ready.catch(() => {});
    this.unref();
  }

  /** The template's pid (its children's parent). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Calls forked or waiting to fork. */
  get active(): number {
    return this.#calls.size;
  }

  #onRecords(chunk: Buffer, ready: () => void): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    let at = 0;
    for (; at + RECORD_BYTES <= this.#buffered.length; at += RECORD_BYTES) {
      const type = this.#buffered.readUInt32LE(at);
      const id = this.#buffered.readUInt32LE(at + 4);
      const pid = this.#buffered.readInt32LE(at + 8);
      const status = this.#buffered.readInt32LE(at + 12);
      if (type === REC_READY) ready();
      else this.#onRecord(type, id, pid, status);
    }
    this.#buffered = this.#buffered.subarray(at);
  }

  #onRecord(type: number, id: number, pid: number, status: number): void {
    const pending = this.#calls.get(id);
    if (pending === undefined) return;
    if (pending.deadline !== undefined) clearTimeout(pending.deadline);
    pending.deadline = undefined;
    if (type === REC_FORKED) {
      pending.call.pid = pid;
      if (pending.killWanted) this.#control.write(frame(REQ_KILL, id, undefined));
      return;
    }
    this.#calls.delete(id);
    if (type === REC_FORK_FAILED) {
      pending.settle({ kind: "not-run", reason: `fork() failed with errno ${status}`, code: null, signal: null });
    } else if (type === REC_EXITED) {
      const signalled = (status & 0x7f) !== 0;
      pending.settle({
        kind: "exited",
        pid,
        code: signalled ? null : (status >> 8) & 0xff,
        signal: signalled ? (SIGNAL_NAMES.get(status & 0x7f) ?? `signal ${status & 0x7f}`) : null,
      });
    }
    this.#maybeEnd();
  }

  #onExit(code: number | null, signal: string | null): void {
    for (const pending of this.#calls.values()) {
      if (pending.deadline !== undefined) clearTimeout(pending.deadline);
      if (pending.call.pid === undefined) {
        pending.settle({ kind: "not-run", reason: "the fork template died before forking", code, signal });
      } else {
        pending.settle({ kind: "orphaned", pid: pending.call.pid });
      }
    }
    this.#calls.clear();
  }

  /**
   * Asks the template to fork a child that runs `payload` (a serialized fork request).
   * Settles `ended` when the child is gone, or at once with "not-run" if the template is dead.
   */
  fork(id: number, payload: Uint8Array): ForkCall {
    let settle: (end: ForkEnd) => void = () => {};
    const ended = new Promise<ForkEnd>((resolve) => {
      settle = resolve;
    });
    const call: ForkCall = { id, pid: undefined, ended };
    if (this.exited) {
      settle({ kind: "not-run", reason: "the fork template had exited", code: null, signal: null });
      return call;
    }
    const pending: Pending = { call, settle, killWanted: false, deadline: undefined };
    pending.deadline = setTimeout(() => this.kill(), this.#deadlineMs);
    this.#calls.set(id, pending);
    this.#control.write(frame(REQ_FORK, id, payload));
    return call;
  }

  /** Kills a call's child and its process group (now, or as soon as it is forked). */
  killCall(id: number): void {
    const pending = this.#calls.get(id);
    if (pending === undefined || this.exited) return;
    pending.killWanted = true;
    if (pending.call.pid !== undefined) this.#control.write(frame(REQ_KILL, id, undefined));
    // A template that does not act on the request (stopped, stuck) is killed, and its children
    // with it (PR_SET_PDEATHSIG): a kill always ends the call.
    setTimeout(() => {
      if (this.#calls.has(id)) this.kill();
    }, KILL_GRACE_MS);
  }

  /**
   * Resident anonymous memory of a process in bytes (a child, or the template itself), if it
   * still exists. Anonymous only (resident minus file-backed): a fork copies the template's
   * anonymous page tables but not its file-backed ones (the node binary), which a child faults
   * in again, so whole RSS would start ~20 MiB lower in the child than in the template and hide
   * that much growth from the limit. Heap and native buffers are anonymous.
   */
  rssBytes(pid: number | undefined = this.#child.pid): number | undefined {
    if (pid === undefined) return undefined;
    try {
      const [, resident = 0, shared = 0] = readFileSync(`/proc/${pid}/statm`, "utf8").split(" ").map(Number);
      return (resident - shared) * PAGE;
    } catch {
      return undefined;
    }
  }

  /** Ends the template once its calls in flight have ended. */
  retire(): void {
    this.#retiring = true;
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    // End of file on the control pipe: the template kills what is left and exits.
    if (this.#retiring && this.#calls.size === 0 && !this.exited) this.#control.end();
  }

  /** Kills the template now; its children die with it. */
  kill(): void {
    if (!this.exited) this.#child.kill("SIGKILL");
  }

  /** Whether the template keeps the caller's event loop alive (only while calls are in flight). */
  ref(): void {
    this.#child.ref();
    for (const stream of [this.#records, this.#child.stderr, this.#control])
      (stream as { ref?: () => void } | null)?.ref?.();
  }

  unref(): void {
    this.#child.unref();
    for (const stream of [this.#records, this.#child.stderr, this.#control])
      (stream as { unref?: () => void } | null)?.unref?.();
  }

  /** Whether the tail of stderr shows the runtime of child `pid` running out of heap. */
  outOfMemory(pid: number): boolean {
    const text = this.stderr.lines(400);
    const mark = text.lastIndexOf(`[${pid}:`);
    return mark >= 0 && OUT_OF_MEMORY.test(text.slice(mark));
  }
}
