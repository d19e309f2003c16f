import type { Command } from "../command.js";
import { demoSections, plannedSections } from "../demo/sections.js";
import { paint } from "../io.js";

/** `memkit demo [section...]`: a live tour of every module. */
export const demoCommand: Command = {
  name: "demo",
  summary: "Run a live tour of every module (or only the named sections)",
  usage: "memkit demo [section...]",
  options: {},
  reports: false,
  exitCodes: [{ code: 1, meaning: "a section failed: its capability did not work (the error is printed)" }],
  allowPositionals: true,
  async run({ positionals }, io) {
    const unknown = positionals.filter((name) => !demoSections.some((s) => s.name === name));
    if (unknown.length > 0) {
      const names = demoSections.map((s) => s.name).join(", ") || "(none yet)";
      io.err(`memkit demo: no section named ${unknown.join(", ")}; sections: ${names}`);
      return 2;
    }
    const chosen = positionals.length === 0 ? demoSections : demoSections.filter((s) => positionals.includes(s.name));
    io.out(paint(io, "bold", "memkit tour"));
    io.out(`sections: ${chosen.map((s) => s.name).join(", ") || "(none yet)"}`);
    if (plannedSections.length > 0 && positionals.length === 0) {
      io.out(`still to come: ${plannedSections.join(", ")}`);
    }
    for (const section of chosen) {
      io.out("");
      io.out(paint(io, "cyan", `== ${section.name}: ${section.title}`));
      await section.run(io);
    }
    io.out("");
    io.out(paint(io, "green", `tour complete: ${chosen.length} section(s) ran`));
    return 0;
  },
};
