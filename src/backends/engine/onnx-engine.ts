/**
 * The reference engine: a separate process that serves ONNX graphs over numgate's engine
 * protocol, using the same onnxruntime backend numgate runs in-process. It exists so the engine
 * protocol is tested end to end (and as a template for a real engine: keep its op handling, swap
 * the compute).
 *
 *   node --import tsx src/backends/engine/onnx-engine.ts --embed E.onnx --vision V.onnx --decoder D.onnx
 *        [--layout numgate] [--exit-at-decode N]   (test hook: exit with code 3 at the N-th decode request)
 *        [--jitter P]   (test hook: with probability P this run perturbs its logits at random)
 */
import type { Backend, ModelShape, StateHandle } from "../backend.ts";
import { layoutNamed } from "../onnx/layouts/index.ts";
import { OnnxRunner } from "../onnx/runner.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { encodeMessage, MessageReader, PROTOCOL, type WireMessage } from "./wire.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const files: Record<string, string> = {};
for (const role of ["embed", "vision", "decoder"]) {
  const f = arg(role);
  if (f !== undefined) files[role] = f;
}
const layoutName = arg("layout") ?? "numgate";
const exitAtDecode = Number(arg("exit-at-decode") ?? "0");
// A planted nondeterminism for the repeat rung: with probability P a run (this process) adds
// uniform noise of up to 1 logit to every logit it returns; the other runs are exact.
const jittered = Math.random() < Number(arg("jitter") ?? "0");
let backend: Backend | undefined;
const states = new Map<number, StateHandle>();
let nextHandle = 1;
let decodes = 0;

function reply(id: unknown, fields: Record<string, unknown>, tensors: Record<string, Tensor> = {}): void {
  process.stdout.write(encodeMessage({ id, ok: true, ...fields }, tensors));
}

function need(m: WireMessage, name: string): Tensor {
  const t = m.tensors.get(name);
  if (t === undefined) throw new Error(`request has no tensor "${name}"`);
  return t;
}

function opened(): Backend {
  if (backend === undefined) throw new Error("hello first");
  return backend;
}

/** Keeps a state until shutdown (a host may resume from an older one: numgate's stale-cache fault does). */
function keep(state: StateHandle): Record<string, number> {
  const h = nextHandle++;
  states.set(h, state);
  return { state: h, state_length: state.length };
}

async function handle(m: WireMessage): Promise<void> {
  const { id, op } = m.header;
  switch (op) {
    case "hello": {
      if (m.header["protocol"] !== PROTOCOL) throw new Error(`this engine speaks ${PROTOCOL}, not ${JSON.stringify(m.header["protocol"])}`);
      const layout = layoutNamed(layoutName);
      if (layout === undefined) throw new Error(`unknown layout ${layoutName}`);
      backend = layout.open(await OnnxRunner.open(files), m.header["model"] as ModelShape);
      reply(id, { protocol: PROTOCOL, engine: `numgate reference engine (onnxruntime-node, ${layoutName} layout)`, capabilities: backend.capabilities });
      return;
    }
    case "embed": {
      const ids = need(m, "input_ids").toNumbers();
      const e = await opened().embed(ids);
      reply(id, {}, { inputs_embeds: Tensor.from("f32", [1, ids.length, e.length / ids.length], e) });
      return;
    }
    case "vision": {
      const grid = Array.isArray(m.header["grid_thw"]) ? (m.header["grid_thw"] as number[]) : [];
      const v = await opened().vision(need(m, "pixel_values"), grid);
      const out: Record<string, Tensor> = { image_embeds: v.embeds };
      v.extra.forEach((t, k) => (out[`extra_${k}`] = t));
      reply(id, {}, out);
      return;
    }
    case "decode": {
      decodes++;
      if (exitAtDecode > 0 && decodes === exitAtDecode) {
        process.stderr.write(`reference engine: simulated crash at decode request ${decodes} (--exit-at-decode)\n`);
        process.exit(3);
      }
      const b = opened();
      const emb = need(m, "inputs_embeds");
      const seqLen = emb.shape[1] ?? 0;
      const handleIn = m.header["state"];
      const state = typeof handleIn === "number" ? states.get(handleIn) : null;
      if (state === undefined) throw new Error(`unknown state handle ${String(handleIn)}`);
      const extras: Record<string, Tensor> = {};
      for (const [name, t] of m.tensors) if (!["inputs_embeds", "position_ids", "isolate_input"].includes(name)) extras[name] = t;
      const iso = m.header["isolate_layer"];
      const out = await b.step({
        inputsEmbeds: emb.toFloat32(),
        seqLen,
        positionIds: need(m, "position_ids").toInt32Array(),
        extras,
        state,
        ...(typeof iso === "number" ? { isolate: { layer: iso, input: need(m, "isolate_input").toFloat32() } } : {}),
      });
      // Noise up to 4 logits: above the tiny model's typical top-2 margin (~1.4), so runs part.
      const logits = jittered ? Tensor.from("f32", [...out.logits.shape], out.logits.toFloat32().map((x) => x + 4 * (Math.random() * 2 - 1))) : out.logits;
      const tensors: Record<string, Tensor> = { logits };
      if (out.hidden !== undefined && m.header["want_layers"] !== false) tensors["hidden_states"] = out.hidden;
      if (out.ropeCos !== undefined && out.ropeSin !== undefined) {
        tensors["rope_cos"] = out.ropeCos;
        tensors["rope_sin"] = out.ropeSin;
      }
      reply(id, keep(out.state), tensors);
      return;
    }
    case "load_state": {
      const length = typeof m.header["length"] === "number" ? m.header["length"] : 0;
      reply(id, keep(await opened().seedState(m.tensors, length)));
      return;
    }
    case "shutdown":
      await backend?.close();
      process.exit(0);
      return;
    default:
      throw new Error(`unknown op ${JSON.stringify(op)}`);
  }
}

const reader = new MessageReader("reference engine");
let queue = Promise.resolve();
process.stdin.on("data", (chunk: Buffer) => {
  let messages: WireMessage[];
  try {
    messages = reader.push(chunk);
  } catch (e) {
    // The stream cannot be resynchronised: say why once, then leave (PROTOCOL.md, Malformed frames).
    process.stdout.write(encodeMessage({ id: null, ok: false, error: `malformed frame: ${(e as Error).message}` }), () => process.exit(2));
    process.stdin.pause();
    return;
  }
  for (const m of messages) {
    // One request at a time, in order: the protocol is strictly request/response.
    queue = queue.then(() =>
      handle(m).catch((e: unknown) => {
        process.stdout.write(encodeMessage({ id: m.header.id, ok: false, error: (e as Error).message }));
      }),
    );
  }
});
process.stdin.on("end", () => void queue.then(() => process.exit(0)));
