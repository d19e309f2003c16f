/**
 * `npm run example -- <name>`: builds memkit and the examples (the npm script does), then runs
 * one example's `main()`. With no name, lists them.
 */
const examples: Record<string, { file: string; what: string }> = {
  pam: { file: "./pam-auth.js", what: "a real PAM client over koffi: who frees the conversation's answers" },
  json: { file: "./json-roundtrip.js", what: "a C JSON library in WebAssembly sharing memkit's heap" },
  counter: { file: "./counter-demo.js", what: "the fallible counter under a memory budget" },
};

const name = process.argv[2];
const example = name === undefined ? undefined : examples[name];
if (example === undefined) {
  if (name !== undefined) console.error(`no example named ${name}`);
  console.log("npm run example -- <name>, one of:");
  for (const [key, { what }] of Object.entries(examples)) console.log(`  ${key.padEnd(8)} ${what}`);
  process.exitCode = name === undefined ? 0 : 2;
} else {
  const module = (await import(example.file)) as { main(): Promise<void> };
  await module.main();
}
