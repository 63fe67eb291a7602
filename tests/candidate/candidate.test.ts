/**
 * The candidate loader and the backend registry without running anything: graph roles resolved
 * next to the manifest, paths confined to the manifest's folder, and a backend or layout numgate
 * does not know named with the manifest field.
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openBackend } from "../../src/backends/registry.ts";
import { candidateFiles, loadCandidate } from "../../src/candidate/candidate.ts";
import { isNumgateError, type NumgateError } from "../../src/errors/numgate-error.ts";
import type { ModelShape } from "../../src/backends/backend.ts";

const dir = mkdtempSync(join(tmpdir(), "numgate-candidate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPE: ModelShape = { family: "test", layers: 1, hidden: 4, positionPlanes: 1, state: [], extraInputs: [] };

function manifest(name: string, body: object): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({ format: "numgate.candidate", version: 1, name, model: "m", backend: "onnx", ...body }, null, 2));
  return p;
}

async function rejected(p: Promise<unknown>): Promise<NumgateError> {
  try {
    await p;
  } catch (e) {
    if (isNumgateError(e)) return e;
    throw e;
  }
  throw new Error("did not reject");
}

function thrown(f: () => unknown): NumgateError {
  try {
    f();
  } catch (e) {
    if (isNumgateError(e)) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("candidate loader", () => {
  writeFileSync(join(dir, "decoder.onnx"), "");

  it("resolves graph files by role next to the manifest", () => {
    const c = loadCandidate(manifest("ok", { files: { decoder: "decoder.onnx" } }));
    expect(c.paths["decoder"]).toBe(join(dir, "decoder.onnx"));
  });

  it("a graph's external-data weights file is among the files hashed for the report", () => {
    mkdirSync(join(dir, "big"), { recursive: true });
    for (const f of ["decoder.onnx", "decoder.onnx.data", "embed.onnx", "embed.onnx_data", "vision.onnx", "unrelated.data"]) writeFileSync(join(dir, "big", f), "");
    const c = loadCandidate(manifest("big/c", { files: { decoder: "decoder.onnx", embed: "embed.onnx", vision: "vision.onnx" } }));
    expect(candidateFiles(c).map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      ["big/c.json", "big/decoder.onnx", "big/decoder.onnx.data", "big/embed.onnx", "big/embed.onnx_data", "big/vision.onnx"],
    );
  });

  it("a missing graph names the manifest field", () => {
    const e = thrown(() => loadCandidate(manifest("missing", { files: { decoder: "nope.onnx" } })));
    expect(e.code).toBe("file_not_found");
    expect(e.field).toBe("files.decoder");
  });

  it("a path out of the manifest's folder is refused, naming the field, before anything is opened", () => {
    const e = thrown(() => loadCandidate(manifest("escape", { files: { decoder: "../../../etc/passwd" } })));
    expect(e.code).toBe("path_outside");
    expect(e.field).toBe("files.decoder");
    expect(e.message).toContain("allow_paths_outside");
  });

  it("a symbolic link cannot smuggle a path out; an allowed root lets it through", () => {
    const outside = mkdtempSync(join(tmpdir(), "numgate-outside-"));
    try {
      writeFileSync(join(outside, "g.onnx"), "");
      mkdirSync(join(dir, "links"), { recursive: true });
      symlinkSync(join(outside, "g.onnx"), join(dir, "links", "g.onnx"));
      const m = manifest("link", { files: { decoder: "links/g.onnx" } });
      expect(thrown(() => loadCandidate(m)).code).toBe("path_outside");
      expect(loadCandidate(m, [outside]).paths["decoder"]).toBe(join(dir, "links", "g.onnx"));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("an unknown backend or layout names the manifest field and lists the known ones", async () => {
    const b = loadCandidate(manifest("backend", { backend: "tensorflow" }));
    const eb = await rejected(openBackend(b, SHAPE, dir));
    expect(eb.code).toBe("candidate_invalid");
    expect(eb.field).toBe("backend");
    expect(eb.message).toContain("backends: onnx, engine");
    const l = loadCandidate(manifest("layout", { layout: "keras", files: { decoder: "decoder.onnx" } }));
    const el = await rejected(openBackend(l, SHAPE, dir));
    expect(el.field).toBe("layout");
    expect(el.message).toContain("unknown layout \"keras\"");
  });

  it("a backend or layout named like an Object.prototype member is unknown, not an internal error", async () => {
    const b = loadCandidate(manifest("proto-backend", { backend: "toString" }));
    const eb = await rejected(openBackend(b, SHAPE, dir));
    expect([eb.code, eb.field]).toEqual(["candidate_invalid", "backend"]);
    expect(eb.message).toContain('unknown backend "toString"');
    const l = loadCandidate(manifest("proto-layout", { layout: "constructor", files: { decoder: "decoder.onnx" } }));
    const el = await rejected(openBackend(l, SHAPE, dir));
    expect([el.code, el.field]).toEqual(["candidate_invalid", "layout"]);
    expect(el.message).toContain('unknown layout "constructor"');
  });

  it("a layout's missing graph role is named", async () => {
    const c = loadCandidate(manifest("roles", { files: { decoder: "decoder.onnx" } }));
    const e = await rejected(openBackend(c, SHAPE, dir));
    expect(e.code).toBe("candidate_invalid");
    expect(e.field).toBe("files.embed");
  });
});
