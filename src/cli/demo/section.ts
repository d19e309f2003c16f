import type { Io } from "../io.js";

/** One live section of `memkit demo`, contributed by a module in its own file. */
export interface DemoSection {
  /** The module it shows, e.g. `heap`; `memkit demo heap` runs only this section. */
  readonly name: string;
  readonly title: string;
  /** Runs the section, printing what happens; throws if the capability does not work. */
  run(io: Io): Promise<void>;
}
