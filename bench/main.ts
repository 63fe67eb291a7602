/** `npm run bench`: every benchmark script, one after another; each prints its own figures. */
import { run as ladder } from "./ladder.ts";
import { run as report } from "./report.ts";
import { run as rope } from "./rope.ts";
import { run as startup } from "./startup.ts";

console.log(`numgate bench — node ${process.version}, ${process.platform}-${process.arch}\n`);
// First, before this process has loaded onnxruntime and run the in-process benches alongside.
await startup();
console.log("");
await ladder();
console.log("");
await rope();
console.log("");
await report();
