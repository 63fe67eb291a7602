/**
 * The reference engine: a separate process that serves ONNX graphs over numgate-engine/1, using
 * the same onnxruntime backend numgate runs in-process. It exists so the engine protocol is
 * tested end to end (and as a template for a real engine: keep its op handling, swap the compute).
 *
 *   node --import tsx src/backends/engine/onnx-engine.ts --embed E.onnx --vision V.onnx --decoder D.onnx
 *        [--exit-at-decode N]   (test hook: exit with code 3 at the N-th decode request, a crash)
 */
import { OnnxBackend, type DecoderDims } from "../onnx/onnx-backend.ts";
import type { KvCache } from "../backend.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { encodeMessage, MessageReader, PROTOCOL, type WireMessage } from "./wire.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const graphs = { embed: arg("embed") ?? "", vision: arg("vision") ?? "", decoder: arg("decoder") ?? "" };
const exitAtDecode = Number(arg("exit-at-decode") ?? "0");
let backend: OnnxBackend | undefined;
const caches = new Map<number, KvCache>();
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

async function handle(m: WireMessage): Promise<void> {
  const { id, op } = m.header;
  switch (op) {
    case "hello": {
      backend = await OnnxBackend.open(graphs, m.header["model"] as DecoderDims);
      reply(id, { protocol: PROTOCOL, engine: "numgate reference engine (onnxruntime-node)", capabilities: backend.capabilities });
      return;
    }
    case "embed": {
      const ids = need(m, "input_ids").toNumbers();
      const e = await backend!.embed(ids);
      reply(id, {}, { inputs_embeds: Tensor.from("f32", [1, ids.length, e.length / ids.length], e) });
      return;
    }
    case "vision": {
      const v = await backend!.vision(need(m, "pixel_values"));
      const out: Record<string, Tensor> = { image_embeds: v.embeds };
      v.deepstack.forEach((t, k) => (out[`deepstack_${k}`] = t));
      reply(id, {}, out);
      return;
    }
    case "decode": {
      decodes++;
      if (exitAtDecode > 0 && decodes === exitAtDecode) {
        process.stderr.write(`reference engine: simulated crash at decode request ${decodes} (--exit-at-decode)\n`);
        process.exit(3);
      }
      const emb = need(m, "inputs_embeds");
      const seqLen = emb.shape[1] ?? 0;
      const handleIn = m.header["cache"];
      const cache = typeof handleIn === "number" ? caches.get(handleIn) : null;
      if (cache === undefined) throw new Error(`unknown cache handle ${String(handleIn)}`);
      const iso = m.header["isolate_layer"];
      const out = await backend!.decode({
        inputsEmbeds: emb.toFloat32(),
        seqLen,
        positionIds: need(m, "position_ids").toInt32Array(),
        deepstack: need(m, "deepstack").toFloat32(),
        cache,
        ...(typeof iso === "number" ? { isolate: { layer: iso, input: need(m, "isolate_input").toFloat32() } } : {}),
      });
      // Caches are kept until shutdown: a host may resume from an older one (numgate's stale-cache fault does).
      const h = nextHandle++;
      caches.set(h, out.cache);
      const tensors: Record<string, Tensor> = { logits: out.logits, hidden_states: out.hidden };
      if (out.ropeCos !== undefined && out.ropeSin !== undefined) {
        tensors["rope_cos"] = out.ropeCos;
        tensors["rope_sin"] = out.ropeSin;
      }
      reply(id, { cache: h, cache_length: out.cache.length }, tensors);
      return;
    }
    case "load_cache": {
      const h = nextHandle++;
      caches.set(h, await backend!.seedCache(need(m, "keys"), need(m, "values")));
      reply(id, { cache: h, cache_length: caches.get(h)!.length });
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
  for (const m of reader.push(chunk)) {
    // One request at a time, in order: the protocol is strictly request/response.
    queue = queue.then(() =>
      handle(m).catch((e: unknown) => {
        process.stdout.write(encodeMessage({ id: m.header.id, ok: false, error: (e as Error).message }));
      }),
    );
  }
});
process.stdin.on("end", () => void queue.then(() => process.exit(0)));
