#!/usr/bin/env node
import { processIo } from "./io.js";
import { runCli } from "./run-cli.js";

const io = processIo();
runCli(process.argv.slice(2), io).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    io.err(`memkit: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
