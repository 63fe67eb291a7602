/**
 * numgate's engine conformance suite: what any engine must do to be driven by numgate, checked
 * against the engine itself (PROTOCOL.md is the contract; every rule below is written there).
 * Each check returns pass/fail/skipped with a message that says what to fix.
 */
import { Buffer } from "node:buffer";
import type { ModelShape } from "../backends/backend.ts";
import { Tensor } from "../tensor/tensor.ts";
import { EngineBackend } from "../backends/engine/engine-backend.ts";
import { PROTOCOL, type WireMessage } from "../backends/engine/wire.ts";
import { RawEngine, type Next } from "./raw-client.ts";

export interface CheckInputs {
  shape: ModelShape;
  /** A prompt's token ids (fed through the engine's own embed). */
  inputIds: number[];
  /** One image for the vision op, when the model has a tower. */
  vision?: { pixels: Tensor; grid: number[] };
}

export interface CheckOptions {
  command: string[];
  cwd: string;
  /** Seconds each request may take. */
  timeoutSeconds: number;
}

export type CheckVerdict = "pass" | "fail" | "skipped";

export interface CheckResult {
  id: string;
  title: string;
  verdict: CheckVerdict;
  message: string;
  seconds: number;
}

export const CHECK_TITLES: Readonly<Record<string, string>> = {
  handshake: "hello answers with the protocol, an engine name and boolean capabilities",
  "version-refusal": "hello with another protocol version is refused (ok: false)",
  embed: "embed: inputs_embeds f32 [1, S, H]",
  vision: "vision: image_embeds and extra_k f32 [n, H]",
  "decode-prefill": "decode from state null: logits [1, S, V], state handle, state_length S, hidden_states [L, 1, S, H]",
  "decode-continue": "decode continuing from a handle: logits [1, 1, V], state_length S + 1",
  "handles-persist": "a handle stays valid after it was continued: the same continuation gives the same logits",
  "state-reset": "a new prefill (state null) after decoding gives the first prefill's logits bit for bit",
  determinism: "two identical requests give bitwise identical answers",
  load_state: "load_state: a state of the negotiated shape gives a handle that decodes",
  "load_state-shape": "load_state with a tensor of the wrong shape is refused",
  "unknown-op": "an unknown op is refused (ok: false) and the engine keeps serving",
  "malformed-frame": "a frame whose header is not JSON: error answer or exit, never ok and never a hang",
  "oversized-frame": "a frame declaring a payload over the limit: error answer or exit without waiting for it",
  "crash-reported": "numgate reports an engine killed mid-request promptly, naming the request",
  latency: "every request answered within the timeout",
  shutdown: "shutdown: the process exits with code 0",
};

type Outcome = { verdict: CheckVerdict; message: string };
const pass = (message: string): Outcome => ({ verdict: "pass", message });
const fail = (message: string): Outcome => ({ verdict: "fail", message });
const skip = (message: string): Outcome => ({ verdict: "skipped", message });

class Fault extends Error {}

function describe(n: Next, op: string): string {
  switch (n.kind) {
    case "answer":
      return `answered ${op} with ${JSON.stringify(n.message.header).slice(0, 200)}`;
    case "exit":
      return `exited during ${op} (code ${n.code}${n.signal === null ? "" : `, signal ${n.signal}`})`;
    case "timeout":
      return `did not answer ${op} within ${n.seconds} s`;
    case "garbled":
      return `wrote something that is not ${PROTOCOL} in answer to ${op}: ${n.detail}`;
  }
}

/** The answer's message when it is ok: true; otherwise a Fault saying what came instead. */
function ok(n: Next, op: string): WireMessage {
  if (n.kind !== "answer") throw new Fault(`the engine ${describe(n, op)}`);
  if (n.message.header["ok"] !== true) throw new Fault(`the engine failed ${op}: ${String(n.message.header["error"] ?? "(no error message)")}`);
  return n.message;
}

function tensor(m: WireMessage, name: string, op: string): Tensor {
  const t = m.tensors.get(name);
  if (t === undefined) throw new Fault(`the ${op} answer has no tensor "${name}" (has: ${[...m.tensors.keys()].join(", ") || "none"})`);
  return t;
}

/** Shape check; -1 matches any size (the vocabulary, for instance). */
function expectShape(t: Tensor, name: string, want: number[], why: string): void {
  const okShape = t.shape.length === want.length && want.every((d, i) => d === -1 || d === t.shape[i]);
  if (t.dtype !== "f32" || !okShape) {
    throw new Fault(`${name} is ${t.dtype} [${t.shape.join(", ")}], expected f32 [${want.map((d) => (d === -1 ? "*" : d)).join(", ")}] (${why})`);
  }
}

function firstDifference(a: Tensor, b: Tensor): string | undefined {
  const x = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  if (a.shape.join() !== b.shape.join()) return `shapes differ: [${a.shape.join(", ")}] vs [${b.shape.join(", ")}]`;
  if (x.equals(y)) return undefined;
  const fa = a.toFloat32();
  const fb = b.toFloat32();
  let worst = 0;
  let at = 0;
  for (let i = 0; i < fa.length; i++) {
    const d = Math.abs((fa[i] ?? 0) - (fb[i] ?? 0));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  return `max |difference| ${worst.toExponential(3)} at element ${at}`;
}

/** The tensors of one decode request over the negotiated shape. */
function decodeTensors(shape: ModelShape, embeds: Float32Array, S: number): Record<string, Tensor> {
  const pos = new BigInt64Array(shape.positionPlanes * S);
  for (let p = 0; p < shape.positionPlanes; p++) for (let s = 0; s < S; s++) pos[p * S + s] = BigInt(s);
  const out: Record<string, Tensor> = {
    inputs_embeds: Tensor.from("f32", [1, S, shape.hidden], embeds),
    position_ids: Tensor.from("i64", [shape.positionPlanes, 1, S], pos),
  };
  for (const x of shape.extraInputs) {
    const dims = x.shape.map((d) => (d === -1 ? S : d));
    out[x.name] = Tensor.from("f32", dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
  }
  return out;
}

function continueTensors(shape: ModelShape, row: Float32Array, position: number): Record<string, Tensor> {
  const t = decodeTensors(shape, row, 1);
  t["position_ids"] = Tensor.from("i64", [shape.positionPlanes, 1, 1], new BigInt64Array(shape.positionPlanes).fill(BigInt(position)));
  return t;
}

function stateTensors(shape: ModelShape, length: number, corrupt: boolean): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  shape.state.forEach((s, k) => {
    const dims = s.emptyShape.map((d) => (d === 0 ? length : d));
    if (corrupt && k === 0) dims[1] = (dims[1] ?? 0) + 1;
    const n = dims.reduce((a, b) => a * b, 1);
    out[s.name] = Tensor.from("f32", dims, Float32Array.from({ length: n }, (_, i) => Math.sin(i + k) * 0.1));
  });
  return out;
}

/** Runs every check; never throws for an engine's fault. */
export async function runChecks(inputs: CheckInputs, opts: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const latencies: { op: string; seconds: number }[] = [];
  const record = async (id: string, body: () => Promise<Outcome>): Promise<void> => {
    const t0 = performance.now();
    let o: Outcome;
    try {
      o = await body();
    } catch (e) {
      o = fail(e instanceof Fault ? e.message : `internal: ${(e as Error).stack ?? String(e)}`);
    }
    results.push({ id, title: CHECK_TITLES[id] ?? id, ...o, seconds: (performance.now() - t0) / 1000 });
  };
  const T = opts.timeoutSeconds;
  const { shape } = inputs;
  const S = inputs.inputIds.length;
  const H = shape.hidden;

  // One session for the ops; states and handles are checked on it in order.
  const eng = new RawEngine(opts.command, opts.cwd);
  const timed = async (op: string, fields: Record<string, unknown>, tensors: Record<string, Tensor> = {}): Promise<Next> => {
    const n = await eng.request(op, fields, tensors, T);
    if (n.kind === "answer") latencies.push({ op, seconds: n.seconds });
    if (n.kind === "timeout") latencies.push({ op, seconds: Infinity });
    return n;
  };
  let caps: Record<string, unknown> = {};
  let helloOk = false;
  await record("handshake", async () => {
    const m = ok(await timed("hello", { protocol: PROTOCOL, model: shape }), "hello");
    const spoken = m.header["protocol"];
    if (spoken !== PROTOCOL) throw new Fault(`hello.protocol is ${JSON.stringify(spoken)}; answer "${PROTOCOL}" (and refuse a hello of any other version)`);
    if (typeof m.header["engine"] !== "string" || m.header["engine"] === "") throw new Fault("hello has no engine name (a non-empty string in hello.engine)");
    const c = m.header["capabilities"];
    if (typeof c !== "object" || c === null) throw new Fault("hello has no capabilities object");
    const notBool = Object.entries(c).filter(([, v]) => typeof v !== "boolean");
    if (notBool.length > 0) throw new Fault(`capabilities must be booleans; ${notBool.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}`);
    caps = c as Record<string, unknown>;
    helloOk = true;
    return pass(`${String(m.header["engine"])}; capabilities ${Object.entries(caps).filter(([, v]) => v === true).map(([k]) => k).join(", ") || "none"}`);
  });

  let embeds: Float32Array | undefined;
  await record("embed", async () => {
    if (!helloOk) return skip("hello failed");
    const m = ok(await timed("embed", {}, { input_ids: Tensor.from("i64", [1, S], BigInt64Array.from(inputs.inputIds, (x) => BigInt(x))) }), "embed");
    const t = tensor(m, "inputs_embeds", "embed");
    expectShape(t, "inputs_embeds", [1, S, H], `S = ${S} ids sent, H = hello.model.hidden`);
    embeds = t.toFloat32();
    return pass(`[1, ${S}, ${H}]`);
  });

  await record("vision", async () => {
    if (!helloOk) return skip("hello failed");
    if (inputs.vision === undefined) return skip("no image input for this model (give a model with a multimodal prompt)");
    const m = ok(await timed("vision", { grid_thw: inputs.vision.grid }, { pixel_values: inputs.vision.pixels }), "vision");
    const e = tensor(m, "image_embeds", "vision");
    const n = e.shape[0] ?? 0;
    expectShape(e, "image_embeds", [-1, H], "H = hello.model.hidden");
    if (n === 0) throw new Fault("image_embeds has no rows");
    const extras = [...m.tensors.keys()].filter((k) => /^extra_\d+$/.test(k));
    for (const k of extras) expectShape(tensor(m, k, "vision"), k, [n, H], "one row per image_embeds row");
    return pass(`image_embeds [${n}, ${H}] + ${extras.length} extra output(s)`);
  });

  const pre: { first?: WireMessage; handle?: number; V?: number; cont?: WireMessage } = {};
  const prefill = async (): Promise<WireMessage> => {
    if (embeds === undefined) throw new Fault("embed failed, so there is nothing to decode");
    return ok(await timed("decode", { state: null, want_layers: true }, decodeTensors(shape, embeds, S)), "decode");
  };
  await record("decode-prefill", async () => {
    if (embeds === undefined) return skip("embed failed, so there is nothing to decode");
    const m = await prefill();
    const logits = tensor(m, "logits", "decode");
    expectShape(logits, "logits", [1, S, -1], `S = ${S} tokens fed`);
    const V = logits.shape[2] ?? 0;
    if (V === 0) throw new Fault("logits has an empty vocabulary axis");
    const h = m.header["state"];
    if (typeof h !== "number") throw new Fault(`the decode answer's state is ${JSON.stringify(h)}; answer a numeric handle`);
    if (m.header["state_length"] !== S) throw new Fault(`state_length is ${JSON.stringify(m.header["state_length"])} after a prefill of ${S} tokens from state null; it must be ${S}`);
    if (caps["layerOutputs"] === true) expectShape(tensor(m, "hidden_states", "decode"), "hidden_states", [shape.layers, 1, S, H], "L = hello.model.layers: the residual after each layer");
    if (caps["ropeTables"] === true) {
      expectShape(tensor(m, "rope_cos", "decode"), "rope_cos", [1, S, -1], "one row per token");
      expectShape(tensor(m, "rope_sin", "decode"), "rope_sin", [1, S, -1], "one row per token");
    }
    Object.assign(pre, { first: m, handle: h, V });
    return pass(`logits [1, ${S}, ${V}], state ${h} holding ${S} tokens`);
  });

  const row = (): Float32Array => (embeds ?? new Float32Array(H)).slice(0, H);
  await record("decode-continue", async () => {
    if (pre.handle === undefined) return skip("decode-prefill failed");
    const m = ok(await timed("decode", { state: pre.handle, want_layers: false }, continueTensors(shape, row(), S)), "decode");
    expectShape(tensor(m, "logits", "decode"), "logits", [1, 1, pre.V ?? -1], "one token fed");
    if (typeof m.header["state"] !== "number") throw new Fault("the continuation answered no numeric state handle");
    if (m.header["state_length"] !== S + 1) throw new Fault(`state_length is ${JSON.stringify(m.header["state_length"])} after one token on a state of ${S}; it must be ${S + 1} (the state holds every token fed)`);
    pre.cont = m;
    return pass(`logits [1, 1, ${pre.V}], state_length ${S + 1}`);
  });

  await record("handles-persist", async () => {
    if (pre.cont === undefined || pre.handle === undefined) return skip("decode-continue failed");
    const m = ok(await timed("decode", { state: pre.handle, want_layers: false }, continueTensors(shape, row(), S)), "decode");
    const d = firstDifference(tensor(pre.cont, "logits", "decode"), tensor(m, "logits", "decode"));
    if (d !== undefined) throw new Fault(`continuing state ${pre.handle} a second time gave other logits (${d}): decoding from a handle must not change that handle's state; keep states until shutdown (PROTOCOL.md, States)`);
    return pass("the same continuation twice gives the same logits");
  });

  await record("state-reset", async () => {
    if (pre.first === undefined) return skip("decode-prefill failed");
    const m = await prefill();
    const d = firstDifference(tensor(pre.first, "logits", "decode"), tensor(m, "logits", "decode"));
    if (d !== undefined) throw new Fault(`a prefill from state null after decoding gave other logits than the first prefill (${d}): state null must start from an empty state, not the last one used`);
    return pass("bit-identical to the first prefill");
  });

  await record("determinism", async () => {
    if (pre.first === undefined) return skip("decode-prefill failed");
    const a = await prefill();
    const b = await prefill();
    const d = firstDifference(tensor(a, "logits", "decode"), tensor(b, "logits", "decode"));
    if (d !== undefined) throw new Fault(`two identical prefills back to back gave different logits (${d}): identical requests must give bitwise identical answers (fix nondeterministic kernels or reductions; numgate's repeat rung measures this too)`);
    return pass("bitwise identical");
  });

  await record("load_state", async () => {
    if (!helloOk) return skip("hello failed");
    if (caps["seededState"] !== true) return skip("the engine does not announce seededState");
    const P = 3;
    const m = ok(await timed("load_state", { length: P }, stateTensors(shape, P, false)), "load_state");
    const h = m.header["state"];
    if (typeof h !== "number") throw new Fault("load_state answered no numeric state handle");
    if (m.header["state_length"] !== P) throw new Fault(`load_state of ${P} tokens answered state_length ${JSON.stringify(m.header["state_length"])}; it must be ${P}`);
    const d = ok(await timed("decode", { state: h, want_layers: false }, continueTensors(shape, row(), P)), "decode");
    expectShape(tensor(d, "logits", "decode"), "logits", [1, 1, pre.V ?? -1], "one token fed on the loaded state");
    if (d.header["state_length"] !== P + 1) throw new Fault(`decoding one token on a loaded state of ${P} answered state_length ${JSON.stringify(d.header["state_length"])}; it must be ${P + 1}`);
    return pass(`${shape.state.length} state tensors of ${P} tokens loaded and decoded from`);
  });

  await record("load_state-shape", async () => {
    if (caps["seededState"] !== true) return skip("the engine does not announce seededState");
    if (shape.state.length === 0) return skip("the model has no state tensors");
    const n = await timed("load_state", { length: 3 }, stateTensors(shape, 3, true));
    if (n.kind === "answer" && n.message.header["ok"] === true) {
      throw new Fault(`load_state accepted ${shape.state[0]?.name} with the wrong shape: check every state tensor against hello.model.state[].emptyShape (with length along the growing axis) and answer ok: false`);
    }
    if (n.kind !== "answer") throw new Fault(`the engine ${describe(n, "load_state")} instead of refusing it with ok: false`);
    return pass(`refused: ${String(n.message.header["error"]).slice(0, 120)}`);
  });

  await record("unknown-op", async () => {
    if (!helloOk) return skip("hello failed");
    const n = await timed("frobnicate", {});
    if (n.kind !== "answer") throw new Fault(`the engine ${describe(n, "an unknown op")}; answer ok: false and keep serving`);
    if (n.message.header["ok"] === true) throw new Fault("the engine answered ok to op \"frobnicate\"; refuse unknown ops with ok: false");
    ok(await timed("embed", {}, { input_ids: Tensor.from("i64", [1, 1], BigInt64Array.of(1n)) }), "embed after an unknown op");
    return pass("refused, and the next request was served");
  });

  await record("latency", async () => {
    if (latencies.length === 0) return skip("no request was answered");
    const slow = latencies.filter((l) => l.seconds > T);
    const worst = latencies.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    if (slow.length > 0) throw new Fault(`${slow.length} request(s) took longer than ${T} s (first: ${slow[0]?.op}); numgate gives up on an engine after the candidate's engine.timeout_s`);
    return pass(`slowest: ${worst.op} ${worst.seconds.toFixed(3)} s`);
  });

  await record("shutdown", async () => {
    if (eng.exit !== undefined) return skip(`the engine had already exited (code ${eng.exit.code}); see the checks above`);
    eng.send("shutdown");
    if (!(await eng.waitExit(5))) {
      await eng.kill();
      throw new Fault("the engine was still running 5 s after shutdown; exit (code 0) when asked");
    }
    const exit = eng.exitStatus();
    if (exit?.code !== 0) throw new Fault(`the engine exited with code ${exit?.code} (signal ${exit?.signal}) after shutdown; exit with 0`);
    return pass("exited with code 0");
  });
  await eng.kill();

  await record("version-refusal", async () => {
    const e = new RawEngine(opts.command, opts.cwd);
    try {
      const n = await e.request("hello", { protocol: "numgate-engine/0", model: shape }, {}, T);
      if (n.kind === "answer" && n.message.header["ok"] === true) {
        throw new Fault(`the engine accepted hello with protocol "numgate-engine/0" (answered ${JSON.stringify(n.message.header["protocol"])}); refuse any version other than ${PROTOCOL} with ok: false`);
      }
      if (n.kind === "timeout") throw new Fault(`the engine ${describe(n, "hello")}`);
      return pass(n.kind === "answer" ? `refused: ${String(n.message.header["error"]).slice(0, 120)}` : `exited (${describe(n, "hello")})`);
    } finally {
      await e.kill();
    }
  });

  const frameCheck = async (bytes: Buffer, what: string): Promise<Outcome> => {
    const e = new RawEngine(opts.command, opts.cwd);
    try {
      e.sendBytes(bytes);
      const n = await e.next(T);
      if (n.kind === "answer" && n.message.header["ok"] === true) throw new Fault(`the engine answered ok to ${what}; answer {"id": null, "ok": false, "error": ...} and exit (PROTOCOL.md, Malformed frames)`);
      if (n.kind === "timeout") throw new Fault(`the engine neither answered nor exited within ${n.seconds} s after ${what}: it is waiting on a stream it can no longer read; answer {"id": null, "ok": false, "error": ...} and exit (PROTOCOL.md, Malformed frames)`);
      if (n.kind === "garbled") throw new Fault(`after ${what} the engine wrote bytes that are not a frame (${n.detail})`);
      return pass(n.kind === "answer" ? `error answer: ${String(n.message.header["error"]).slice(0, 100)}` : `exited (code ${n.code})`);
    } finally {
      await e.kill();
    }
  };
  await record("malformed-frame", () => {
    const junk = Buffer.from("{not json", "utf8");
    const head = Buffer.alloc(4);
    head.writeUInt32LE(junk.length, 0);
    return frameCheck(Buffer.concat([head, junk]), "a frame whose header is not JSON");
  });
  await record("oversized-frame", () => {
    const header = Buffer.from(JSON.stringify({ id: 1, op: "embed", tensors: [{ name: "input_ids", dtype: "i64", shape: [1, 2 ** 40] }] }), "utf8");
    const head = Buffer.alloc(4);
    head.writeUInt32LE(header.length, 0);
    return frameCheck(Buffer.concat([head, header]), "a frame declaring an 8 TiB tensor");
  });

  await record("crash-reported", async () => {
    if (!helloOk || embeds === undefined) return skip("hello or embed failed");
    const b = await EngineBackend.open({ command: opts.command, cwd: opts.cwd, timeoutSeconds: T, manifest: "engine check" }, shape);
    const pid = b.pid;
    // Killed before the request, not during it: an engine that answers fast would otherwise win a
    // race against the kill, and the check would depend on the machine's load.
    if (pid !== undefined) process.kill(pid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = performance.now();
    const { inputs_embeds: _e, position_ids: _p, ...extras } = decodeTensors(shape, embeds, S);
    const err = await b.step({ inputsEmbeds: embeds, seqLen: S, positionIds: new Int32Array(shape.positionPlanes * S), extras, state: null }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const seconds = (performance.now() - t0) / 1000;
    await b.close().catch(() => undefined);
    if (err === undefined) {
      throw new Fault(
        `the engine answered after its process (pid ${pid}) was killed: another process holds the engine's stdin/stdout (a shell or launcher that does not exec the engine), so numgate cannot see the engine crash; start the engine with exec`,
      );
    }
    if (!/killed by SIGKILL|process is gone|could not write/.test(err.message)) {
      throw new Fault(
        `killing the engine process (pid ${pid}) was reported as "${err.message.split("\n")[0]}" after ${seconds.toFixed(1)} s, not as a crash: another process still holds the engine's stdout (a shell or launcher that does not exec the engine); start the engine with exec so numgate sees it end`,
      );
    }
    return pass(`reported in ${seconds.toFixed(2)} s: ${err.message.split("\n")[0]}`);
  });

  return results;
}
