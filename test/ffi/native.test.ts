import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadNative, type Native } from "memkit/ffi";
import { leaked } from "memkit/once";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createPamService,
  PAM_AUTH_ERR,
  PAM_CONV_ERR,
  PAM_SUCCESS,
  PASSWORD,
  pamAuthenticate,
} from "../../examples/pam-auth.js";
import { authenticateInChild } from "./pam-child.js";

// These tests use the built package (the example imports "memkit/ffi") and the real koffi and libpam.
let native: Native;
beforeAll(async () => {
  native = await loadNative();
});

describe("native libc memory with tracked ownership (koffi)", () => {
  it("a missing koffi is a typed error that says how to install it", async () => {
    const error = await loadNative({ loader: () => Promise.reject(new Error("Cannot find package 'koffi'")) }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_MISSING_PEER", peer: "koffi" });
    expect((error as Error).message).toContain("npm install koffi");
  });

  it("malloc/calloc/strdup are owned, counted, freed once; a second free is refused without calling libc", () => {
    const before = native.counts;
    const block = native.malloc(64);
    const zeros = native.calloc(4, 16);
    const text = native.strdup("héllo");
    expect(native.readCString(text.ptr)).toBe("héllo");
    expect((native.koffi.decode(zeros.ptr, "uint8_t", 64) as number[]).every((b) => b === 0)).toBe(true);
    const raw = block.ptr;
    block.free();
    expect(() => native.free(raw)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_DOUBLE_FREE" }));
    expect(() => native.free(12345n)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    zeros[Symbol.dispose]();
    const moved = text.intoRaw();
    expect(() => text.ptr).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_MOVED" }));
    native.fromRaw(moved).free(); // taking it back, as if C returned it
    const after = native.counts;
    expect(after.live).toBe(before.live);
    expect(after.allocated - before.allocated).toBe(4);
    expect(after.freed - before.freed).toBe(3);
    expect(after.handedOff - before.handedOff).toBe(1);
  });

  it("fromRaw refuses a plain number, NULL, an address malloc never returns and a block already owned", () => {
    const before = native.counts;
    const text = native.strdup("owned once");
    expect(() => native.fromRaw(text.ptr)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_ALREADY_OWNED" }));
    expect(() => native.fromRaw(1234 as unknown as bigint)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
    for (const bad of [0n, 1234n, text.ptr + 8n])
      expect(() => native.fromRaw(bad)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_POINTER" }));
    text.free();
    expect(native.counts.live).toBe(before.live);
    expect(native.counts.allocated - before.allocated).toBe(native.counts.freed - before.freed);
  });
});

/** Parses the shim's log: 8-byte freed addresses, with 16-byte markers closing each authentication. */
function freesPerAuthentication(log: Buffer): Set<string>[] {
  const windows: Set<string>[] = [new Set()];
  for (let at = 0; at + 8 <= log.length; at += 8) {
    const value = log.readBigUInt64LE(at);
    if (value === 0xffffffffffffffffn) {
      at += 8; // the marker's index
      windows.push(new Set());
    } else (windows[windows.length - 1] as Set<string>).add(value.toString());
  }
  return windows;
}

const hasGcc = spawnSync("gcc", ["--version"]).status === 0;

describe("a real PAM client (libpam + pam_exec, no root, no system user)", () => {
  const { confdir: dir, service } = createPamService();
  const request = { service, confdir: dir, user: "memkit-nobody" };

  it("the right password authenticates; answers were calloc/strdup'd and handed to libpam", async () => {
    const before = native.counts;
    const outcome = await pamAuthenticate({ ...request, password: PASSWORD, native });
    expect(outcome).toMatchObject({ status: PAM_SUCCESS, callbackError: undefined });
    expect(outcome.callbackCalls).toBeGreaterThan(0);
    const after = native.counts;
    expect(after.allocated - before.allocated).toBe(2 * outcome.callbackCalls); // one array + one answer per call
    expect(after.handedOff - before.handedOff).toBe(after.allocated - before.allocated);
    expect(after.live).toBe(before.live);
  });

  it("a wrong password is PAM_AUTH_ERR (pam_deny's answer: pam_exec alone would say PAM_SYSTEM_ERR)", async () => {
    const outcome = await pamAuthenticate({ ...request, password: "wrong", native });
    expect(outcome).toMatchObject({ status: PAM_AUTH_ERR, callbackError: undefined });
    expect(PAM_AUTH_ERR).toBe(7);
  });

  it("a throwing callback gives libpam PAM_CONV_ERR, frees its partial answers and authentication fails", async () => {
    const before = native.counts;
    const outcome = await pamAuthenticate({ ...request, password: PASSWORD, failInCallback: true, native });
    expect(outcome.status).toBe(PAM_CONV_ERR);
    expect((outcome.callbackError as Error).message).toContain("password store");
    const after = native.counts;
    expect(after.freed - before.freed).toBe(after.allocated - before.allocated); // the calloc'd array, freed
    expect(after.handedOff - before.handedOff).toBe(0);
    expect(PAM_CONV_ERR).toBe(19);
  });

  it("the callback is pinned while registered and unpinned after: leaked() shows no PAM conversation", async () => {
    await pamAuthenticate({ ...request, password: PASSWORD, native });
    expect(leaked().some((entry) => entry.label === "PAM conversation")).toBe(false);
  });

  it.skipIf(!hasGcc)(
    "every block handed to libpam is freed by libpam within that authentication (free() logged by an LD_PRELOAD shim)",
    () => {
      const work = mkdtempSync(join(tmpdir(), "memkit-free-log-"));
      const shim = join(work, "free-log.so");
      const source = fileURLToPath(new URL("../fixtures/free-log.c", import.meta.url));
      expect(spawnSync("gcc", ["-shared", "-fPIC", "-O2", "-o", shim, source]).status).toBe(0);
      const log = join(work, "frees.bin");
      const script = fileURLToPath(new URL("../fixtures/pam-free-proof.mjs", import.meta.url));
      const run = spawnSync(process.execPath, [script, dir, request.service, "60", log], {
        env: { ...process.env, LD_PRELOAD: shim, MEMKIT_FREE_LOG: log },
        encoding: "utf8",
        maxBuffer: 16 << 20,
      });
      expect(run.status).toBe(0); // a double free would have aborted it (SIGABRT)
      const { auths, counts } = JSON.parse(run.stdout) as {
        auths: { status: number; failed: boolean; pointers: string[] }[];
        counts: { live: number };
      };
      const windows = freesPerAuthentication(readFileSync(log));
      expect(auths).toHaveLength(60);
      expect(auths.filter((a) => a.status === 0)).toHaveLength(20); // right password, callback fine
      auths.forEach((auth, i) => {
        expect(auth.pointers.length).toBeGreaterThan(0);
        // Handed to libpam: its free() goes through the shim. (When the callback failed, memkit freed
        // them itself through koffi's handle on libc, which the shim cannot see: the counter covers that.)
        if (!auth.failed) for (const pointer of auth.pointers) expect(windows[i]?.has(pointer)).toBe(true);
      });
      expect(auths.filter((a) => !a.failed)).toHaveLength(40);
      expect(counts.live).toBe(0);
    },
    120_000,
  );

  it("40 authentications in a fresh process: no double free (glibc would abort it), nothing left owned", async () => {
    // The 1,000-authentication run is test/ffi/native.soak.test.ts (npm run test:soak).
    const result = await authenticateInChild(request, 40);
    expect(result.successes).toBe(20);
    expect(result.counts.live).toBe(0);
    expect(result.counts.allocated).toBe(result.counts.handedOff + result.counts.freed);
  }, 60_000);
});
