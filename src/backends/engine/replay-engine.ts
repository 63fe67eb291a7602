/**
 * The replay engine: answers numgate-engine/2 requests from frames recorded with
 * NUMGATE_ENGINE_RECORD=<dir> (recording.ts), so an engine's run on a GPU or a Mac is re-made in CI
 * with neither. A request the recording has not seen is refused with a message saying so; it is
 * never guessed.
 *
 *   node --import tsx src/backends/engine/replay-engine.ts <recording dir>
 */
import { existsSync } from "node:fs";
import { encodeMessage, MessageReader, type WireMessage } from "./wire.ts";
import { FrameStore, requestKey } from "./recording.ts";

const dir = process.argv[2];
if (dir === undefined || !existsSync(dir)) {
  process.stderr.write(`replay engine: no recording folder ${JSON.stringify(dir)} (usage: replay-engine.ts <dir recorded with NUMGATE_ENGINE_RECORD>)\n`);
  process.exit(2);
}
const store = new FrameStore(dir);
process.stderr.write(`replay engine: ${store.size} recorded requests in ${dir}\n`);

function serve(m: WireMessage): void {
  const op = String(m.header["op"]);
  if (op === "shutdown") process.exit(0);
  const key = requestKey(m.header, m.tensors);
  const answer = store.answer(key);
  if (answer === undefined) {
    const error = `replay: the recording in ${dir} has no answer to this ${op} request (key ${key}); this run asks something the recorded run did not (another ladder, spec, prompt set or numgate version): re-record the engine with NUMGATE_ENGINE_RECORD=${dir}`;
    process.stderr.write(`${error}\n`);
    process.stdout.write(encodeMessage({ id: m.header["id"], ok: false, error }));
    return;
  }
  process.stdout.write(encodeMessage({ ...answer.header, id: m.header["id"], tensors: undefined }, Object.fromEntries(answer.tensors)));
}

const reader = new MessageReader("replay engine");
process.stdin.on("data", (chunk: Buffer) => {
  let messages: WireMessage[];
  try {
    messages = reader.push(chunk);
  } catch (e) {
    process.stdout.write(encodeMessage({ id: null, ok: false, error: `malformed frame: ${(e as Error).message}` }), () => process.exit(2));
    process.stdin.pause();
    return;
  }
  for (const m of messages) serve(m);
});
process.stdin.on("end", () => process.exit(0));
