import { describe, expect, it } from "vitest";
import { createPamService } from "../../examples/pam-auth.js";
import { authenticateInChild } from "./pam-child.js";

describe("a real PAM client, soak-sized", () => {
  it("1,000 authentications in a fresh process: no double free (glibc would abort it), nothing left owned", async () => {
    const { confdir, service } = createPamService();
    const result = await authenticateInChild({ confdir, service, user: "memkit-nobody" }, 1000);
    expect(result.successes).toBe(500);
    expect(result.counts.live).toBe(0);
    expect(result.counts.allocated).toBe(result.counts.handedOff + result.counts.freed);
  }, 300_000);
});
