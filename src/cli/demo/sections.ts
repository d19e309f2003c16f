import { fallibleSection } from "./fallible.js";
import { ffiSection } from "./ffi.js";
import { heapSection } from "./heap.js";
import { isolateSection } from "./isolate.js";
import { onceSection } from "./once.js";
import type { DemoSection } from "./section.js";

/** Every demo section, in tour order. Each module adds one import and one entry. */
export const demoSections: readonly DemoSection[] = [
  heapSection,
  fallibleSection,
  isolateSection,
  onceSection,
  ffiSection,
];

/** Modules whose demo section is still to come; printed so the tour says what is missing. */
export const plannedSections: readonly string[] = ["heap", "fallible", "isolate", "once", "ffi"].filter(
  (name) => !demoSections.some((section) => section.name === name),
);
