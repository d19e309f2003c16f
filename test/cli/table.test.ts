import { describe, expect, it } from "vitest";
import { formatBytes, formatNs, renderTable } from "../../src/cli/table.js";

describe("renderTable", () => {
  it("aligns columns and right-aligns numbers", () => {
    const text = renderTable(
      [{ title: "name" }, { title: "ns", right: true }],
      [
        ["tlsf", "12"],
        ["glibc", "5"],
      ],
    );
    expect(text.split("\n")).toEqual(["name   ns", "-----  --", "tlsf   12", "glibc   5"]);
  });
});

describe("formatters", () => {
  it("pick a readable unit", () => {
    expect(formatNs(5)).toBe("5.00 ns");
    expect(formatNs(1500)).toBe("1.50 µs");
    expect(formatNs(2_500_000)).toBe("2.50 ms");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatNs(Number.NaN)).toBe("-");
  });
});
