/**
 * A candidate served by an external engine process (the on-device path: a Metal engine, an MLX
 * server, anything that speaks numgate-engine/2 on stdin/stdout; see PROTOCOL.md). The engine
 * keeps its KV caches itself and hands back opaque handles, as a GPU-resident cache would.
 *
 * Every failure of the process (it cannot start, exits mid-request, closes a pipe, says something
 * malformed, takes too long, or answers with an error) becomes a NumgateError naming the candidate
 * manifest, the request and the last lines the engine wrote to stderr; none may throw out of a
 * stream event, which would end numgate without reports.
 *
 * When numgate gives up on a live engine (a timeout, a stream that is not the protocol, a closed
 * pipe) it kills the process and rejects the open request only once the process has closed: its
 * stderr is then read to the end, so its last words make it into the error.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { NumgateError } from "../../errors/numgate-error.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { Backend, BackendCapabilities, GenerateRequest, GenerateResult, ModelShape, StateHandle, StepInputs, StepOutputs, VisionOutputs } from "../backend.ts";
import { FrameRecorder, requestKey } from "./recording.ts";
import { encodeMessage, MessageReader, PROTOCOL, type WireMessage } from "./wire.ts";

export interface EngineLaunch {
  command: string[];
  cwd: string;
  timeoutSeconds: number;
  /** The candidate manifest, named in every error. */
  manifest: string;
}

interface EngineState extends StateHandle {
  handle: number;
}

interface Pending {
  op: string;
  id: number;
  resolve: (m: WireMessage) => void;
  reject: (e: NumgateError) => void;
  timer: NodeJS.Timeout;
}

const STDERR_LINES = 20;
/** How long a killed engine may take to close its pipes before numgate stops waiting for them. */
const CLOSE_GRACE_MS = 2000;

const NO_CAPABILITIES: BackendCapabilities = { layerOutputs: false, isolatedLayers: false, ropeTables: false, seededState: false };

export class EngineBackend implements Backend {
  readonly name: string;
  capabilities: BackendCapabilities = NO_CAPABILITIES;
  /** Set when the engine announces `generate` (its own generation loop; PROTOCOL.md). */
  generate?: (request: GenerateRequest) => Promise<GenerateResult>;
  private seconds = 0;
  private nextId = 1;
  private pending: Pending | undefined;
  private stderr: string[] = [];
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why numgate gave up on (and killed) the engine; the error of the open request once it has closed. */
  private abandoned: string | undefined;
  private readonly reader: MessageReader;
  /** NUMGATE_ENGINE_RECORD=<dir>: every request/answer pair is kept there for the replay engine. */
  private readonly recorder: FrameRecorder | undefined;

  private constructor(
    private readonly launch: EngineLaunch,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.name = `engine (${launch.command.join(" ")})`;
    this.reader = new MessageReader("engine output"); // its faults are wrapped in errors naming the manifest
    const recordDir = process.env["NUMGATE_ENGINE_RECORD"];
    this.recorder = recordDir ? new FrameRecorder(recordDir) : undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      if (this.abandoned !== undefined) return; // the stream is no longer trusted
      try {
        for (const m of this.reader.push(chunk)) this.settle(m);
      } catch (e) {
        this.abandon(`engine's answer to ${this.current()} is broken: ${(e as Error).message}`);
      }
    });
    // An engine that exits or closes its stdin while numgate writes would otherwise raise EPIPE
    // as an unhandled stream error and kill numgate without reports. If it exited by itself, the
    // close handler names its exit code instead.
    child.stdin.on("error", (e: NodeJS.ErrnoException) => {
      this.abandon(`could not write ${this.current()} to the engine (${e.code ?? e.message}): it closed its input`);
    });
    child.stdout.on("error", (e) => this.abandon(`could not read from the engine during ${this.current()}: ${e.message}`));
    // End of stdout while the process lives: no answer can come, so waiting for the timeout is pointless.
    child.stdout.on("end", () => this.abandon(`engine closed its output during ${this.current()}`));
    child.stderr.on("error", () => undefined); // its last words are a courtesy; losing them is no failure
    child.on("error", (e) => this.abandon(`engine process failed during ${this.current()}: ${e.message}`));
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr.push(...chunk.toString("utf8").split("\n").filter((l) => l.trim() !== ""));
      if (this.stderr.length > STDERR_LINES) this.stderr = this.stderr.slice(-STDERR_LINES);
    });
    // "close", not "exit": stderr is fully read by then, so the engine's last words make it into the error.
    child.on("close", (code, signal) => {
      this.exited = { code, signal };
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      // Killed by numgate: numgate's reason is the cause. Exited by itself: its exit code is.
      const message = this.abandoned !== undefined && code === null ? this.abandoned : `engine process ${how} during ${this.current()}`;
      this.fail(this.error(message));
    });
  }

  static async open(launch: EngineLaunch, shape: ModelShape): Promise<EngineBackend> {
    const [cmd, ...args] = launch.command;
    if (cmd === undefined) throw new NumgateError("candidate_invalid", "engine.command is empty", { file: launch.manifest, field: "engine.command" });
    // "node" means the Node running numgate, so an engine written in TS/JS needs no PATH lookup.
    const exe = cmd === "node" ? process.execPath : cmd;
    const child = spawn(exe, args, { cwd: launch.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const backend = new EngineBackend(launch, child);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (e) =>
        reject(new NumgateError("backend_failed", `could not start the engine (${launch.command.join(" ")}): ${e.message}`, { file: launch.manifest, field: "engine.command" })),
      );
    });
    try {
      const hello = await backend.request("hello", { protocol: PROTOCOL, model: shape });
      const spoken = hello.header["protocol"];
      if (spoken === "numgate-engine/1") {
        throw backend.error(
          `engine speaks numgate-engine/1, which this numgate no longer accepts: ${PROTOCOL} negotiates the model's state tensors and extra inputs (hello.model) and names state by handle ("state", "load_state"); update the engine as src/backends/engine/PROTOCOL.md describes`,
        );
      }
      if (spoken !== PROTOCOL) throw backend.error(`engine speaks ${JSON.stringify(spoken)}, numgate speaks ${PROTOCOL}`);
      const caps = hello.header["capabilities"] as Partial<Record<keyof BackendCapabilities | "generate", unknown>> | undefined;
      backend.capabilities = {
        layerOutputs: caps?.layerOutputs === true,
        isolatedLayers: caps?.isolatedLayers === true,
        ropeTables: caps?.ropeTables === true,
        seededState: caps?.seededState === true,
        ...(caps?.generate === true ? { generateBatch: caps.generateBatch === true } : {}),
      };
      if (caps?.generate === true) backend.generate = (r) => backend.generateInEngine(r);
      return backend;
    } catch (e) {
      await backend.close();
      throw e;
    }
  }

  /** The engine's process id (the conformance suite kills it on purpose). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get inferenceSeconds(): number {
    return this.seconds;
  }

  /** "decode (request 11)", or "idle" between requests. */
  private current(): string {
    return this.pending === undefined ? "idle" : `${this.pending.op} (request ${this.pending.id})`;
  }

  /**
   * Gives up on a live engine: kills it and lets the close handler reject the open request, with
   * a fallback for an engine whose pipes stay open (a grandchild holding them) after the kill.
   */
  private abandon(message: string): void {
    if (this.exited !== undefined) return;
    this.abandoned ??= message;
    this.child.kill("SIGKILL");
    setTimeout(() => this.fail(this.error(this.abandoned ?? message)), CLOSE_GRACE_MS).unref();
  }

  /** Why no request can be sent any more, or undefined while the engine is usable. */
  private goneReason(): string | undefined {
    if (typeof this.exited?.code === "number") return `exit code ${this.exited.code}`;
    if (this.abandoned !== undefined) return this.abandoned;
    return this.exited === undefined ? undefined : `killed by ${this.exited.signal}`;
  }

  private error(message: string): NumgateError {
    const tail = this.stderr.length === 0 ? "" : `\nlast engine stderr:\n  ${this.stderr.join("\n  ")}`;
    return new NumgateError("backend_failed", `${message}${tail}`, { file: this.launch.manifest, field: "engine" });
  }

  private settle(m: WireMessage): void {
    const p = this.pending;
    if (p === undefined || m.header["id"] !== p.id) {
      this.abandon(`engine answered request ${String(m.header["id"])} but ${p === undefined ? "none" : `request ${p.id}`} is open`);
      return;
    }
    this.pending = undefined;
    clearTimeout(p.timer);
    if (m.header["ok"] !== true) {
      p.reject(this.error(`engine failed ${p.op} (request ${p.id}): ${String(m.header["error"] ?? "no error message")}`));
    } else {
      p.resolve(m);
    }
  }

  private fail(e: NumgateError): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(e);
  }

  private request(op: string, fields: Record<string, unknown>, tensors: Record<string, Tensor> = {}): Promise<WireMessage> {
    const gone = this.goneReason();
    if (gone !== undefined) return Promise.reject(this.error(`engine process is gone (${gone}); cannot run ${op}`));
    const id = this.nextId++;
    const t0 = performance.now();
    return new Promise<WireMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.abandon(`engine did not answer ${op} (request ${id}) within ${this.launch.timeoutSeconds} s`), this.launch.timeoutSeconds * 1000);
      this.pending = {
        op,
        id,
        timer,
        resolve: (m) => {
          this.seconds += (performance.now() - t0) / 1000;
          this.recorder?.add(op, requestKey({ op, ...fields }, tensors), m);
          resolve(m);
        },
        reject,
      };
      this.child.stdin.write(encodeMessage({ id, op, ...fields }, tensors));
    });
  }

  private tensor(m: WireMessage, name: string, op: string): Tensor {
    const t = m.tensors.get(name);
    if (t === undefined) throw this.error(`engine's ${op} answer has no tensor "${name}" (has: ${[...m.tensors.keys()].join(", ") || "none"})`);
    return t;
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    const m = await this.request("embed", {}, { input_ids: Tensor.from("i64", [1, ids.length], BigInt64Array.from(ids, (x) => BigInt(x))) });
    return this.tensor(m, "inputs_embeds", "embed").toFloat32();
  }

  async vision(pixelValues: Tensor, gridThw: readonly number[]): Promise<VisionOutputs> {
    const m = await this.request("vision", { grid_thw: [...gridThw] }, { pixel_values: pixelValues });
    const extra = [...m.tensors.keys()].filter((k) => /^extra_\d+$/.test(k)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    return { embeds: this.tensor(m, "image_embeds", "vision"), extra: extra.map((k) => this.tensor(m, k, "vision")) };
  }

  private stateOf(m: WireMessage, op: string): EngineState {
    const handle = m.header["state"];
    const length = m.header["state_length"];
    if (typeof handle !== "number" || typeof length !== "number") throw this.error(`engine's ${op} answer lacks a numeric state handle and state_length`);
    return { handle, length };
  }

  async step(x: StepInputs): Promise<StepOutputs> {
    const S = x.seqLen;
    const H = x.inputsEmbeds.length / S;
    const tensors: Record<string, Tensor> = {
      inputs_embeds: Tensor.from("f32", [1, S, H], x.inputsEmbeds),
      position_ids: Tensor.from("i64", [x.positionIds.length / S, 1, S], BigInt64Array.from(x.positionIds, (v) => BigInt(v))),
      ...x.extras,
    };
    if (x.isolate !== undefined) {
      if (!this.capabilities.isolatedLayers) throw this.error("this engine cannot isolate a layer (hello did not announce isolatedLayers)");
      tensors["isolate_input"] = Tensor.from("f32", [1, S, H], x.isolate.input);
    }
    const state = x.state as EngineState | null;
    const fields = {
      state: state?.handle ?? null,
      want_layers: x.wantLayers !== false,
      ...(x.isolate === undefined ? {} : { isolate_layer: x.isolate.layer }),
    };
    const m = await this.request("decode", fields, tensors);
    const out: StepOutputs = { logits: this.tensor(m, "logits", "decode"), state: this.stateOf(m, "decode") };
    if (m.tensors.has("hidden_states")) out.hidden = this.tensor(m, "hidden_states", "decode");
    if (m.tensors.has("rope_cos") && m.tensors.has("rope_sin")) {
      out.ropeCos = this.tensor(m, "rope_cos", "decode");
      out.ropeSin = this.tensor(m, "rope_sin", "decode");
    }
    return out;
  }

  /** The engine's own generation loop (optional op `generate`), with every position feed it gave its decoder. */
  private async generateInEngine(r: GenerateRequest): Promise<GenerateResult> {
    const B = r.inputIds.length;
    const S = r.inputIds[0]?.length ?? 0;
    const i64 = (rows: readonly (readonly number[])[], width: number) => Tensor.from("i64", [rows.length, width], BigInt64Array.from(rows.flat(), (v) => BigInt(v)));
    const tensors: Record<string, Tensor> = { input_ids: i64(r.inputIds, S), attention_mask: i64(r.attentionMask, S) };
    if (r.pixelValues !== undefined && r.imageGridThw !== undefined) {
      tensors["pixel_values"] = r.pixelValues;
      tensors["image_grid_thw"] = i64(r.imageGridThw, 3);
    }
    const m = await this.request("generate", { max_new_tokens: r.maxNewTokens }, tensors);
    const tokens = this.tensor(m, "tokens", "generate");
    const n = tokens.shape[1] ?? 0;
    const flat = tokens.toNumbers();
    const count = m.header["position_feeds"];
    if (typeof count !== "number") throw this.error("engine's generate answer lacks a numeric position_feeds");
    const positionFeeds = Array.from({ length: count }, (_, k) => {
      const t = this.tensor(m, `position_feed_${k}`, "generate");
      const [planes = 0, batch = 0, seqLen = 0] = t.shape;
      if (t.shape.length !== 3 || batch !== B) throw this.error(`engine's position_feed_${k} is [${t.shape.join(", ")}], not [planes, ${B}, S]`);
      return { planes, batch, seqLen, data: t.toInt32Array() };
    });
    const out: GenerateResult = { tokens: Array.from({ length: B }, (_, b) => flat.slice(b * n, (b + 1) * n)), positionFeeds };
    if (m.tensors.has("logits")) {
      const l = this.tensor(m, "logits", "generate");
      const V = l.shape[1] ?? 0;
      const data = l.toFloat32();
      out.logits = Array.from({ length: l.shape[0] ?? 0 }, (_, i) => data.slice(i * V, (i + 1) * V));
    }
    return out;
  }

  async seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    if (!this.capabilities.seededState) throw this.error("this engine cannot load a state (hello did not announce seededState)");
    const m = await this.request("load_state", { length }, Object.fromEntries(tensors));
    return this.stateOf(m, "load_state");
  }

  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
    this.child.stdin.end(encodeMessage({ id: this.nextId++, op: "shutdown" }));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), CLOSE_GRACE_MS);
    // A killed engine whose pipes a grandchild holds open never closes: do not wait for it forever.
    await Promise.race([gone, new Promise<void>((resolve) => setTimeout(resolve, 2 * CLOSE_GRACE_MS).unref())]);
    clearTimeout(timer);
  }
}
