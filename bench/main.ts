/**
 * `npm run bench`: every benchmark script, one after another; each prints its own figures.
 * The whole-process comparisons run first, before this process has loaded onnxruntime and run
 * the in-process benches alongside.
 */
import { run as ladder } from "./ladder.ts";
import { run as polygraphy } from "./polygraphy.ts";
import { run as report } from "./report.ts";
import { run as rope } from "./rope.ts";
import { run as scaled } from "./scaled.ts";
import { run as startup } from "./startup.ts";

console.log(`numgate bench — node ${process.version}, ${process.platform}-${process.arch}\n`);
await startup();
console.log("");
await polygraphy();
console.log("");
await scaled();
console.log("");
await ladder();
console.log("");
await rope();
console.log("");
await report();
