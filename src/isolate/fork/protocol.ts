import type { RunMessage } from "../protocol.js";

/**
 * What a forked child is asked to do: process mode's run message, plus the file in shared memory
 * (/dev/shm) where the child leaves its answer before it exits. The caller reads that file once
 * the template reports the child's exit, so an answer is only ever taken from a child that is gone.
 */
export interface ForkRequest extends RunMessage {
  readonly answer: string;
  /**
   * Unique in the caller's process (isolators number their calls from 1 each, and share
   * templates): names the call to the template and in the answer file's header, so neither a
   * stale answer nor another isolator's call can be taken for this one.
   */
  readonly tag: number;
}

/** Frame types the caller sends to the template (see native/fork/fork.c). */
export const REQ_FORK = 1;
export const REQ_KILL = 2;
/** Records the template sends back. */
export const REC_READY = 1;
export const REC_FORKED = 2;
export const REC_EXITED = 3;
export const REC_FORK_FAILED = 4;
export const RECORD_BYTES = 16;

/** Header of an answer file: magic, call id, body length; then a v8-serialized child message. */
export const ANSWER_MAGIC = 0x31464b4d; // "MKF1"
export const ANSWER_HEAD = 12;
/** Header the child writes (id, no body) just before it calls the function. */
export const ENTERED_MAGIC = 0x31454b4d; // "MKE1"

/** A request frame for the template: 12-byte header then the payload. */
export function frame(type: number, id: number, payload: Uint8Array | undefined): Buffer {
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(id, 4);
  head.writeUInt32LE(payload?.length ?? 0, 8);
  return payload === undefined ? head : Buffer.concat([head, payload]);
}
