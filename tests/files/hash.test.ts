import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileHasher } from "../../src/files/hash.ts";
import { REFERENCE_PATH } from "../fixtures/core/expected.ts";

const tmp = mkdtempSync(join(tmpdir(), "numgate-hash-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const oneShot = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const hosts = [
  ["on a worker thread", 0],
  ["on the calling thread", Infinity],
] as const;

describe.each(hosts)("FileHasher (%s)", (_host, inlineBytes) => {
  const sha256File = async (path: string, chunkBytes?: number): Promise<string | undefined> =>
    (await new FileHasher([path], { inlineBytes, ...(chunkBytes === undefined ? {} : { chunkBytes }) }).result())[0];

  it("equals the one-shot hash, whatever the chunk size", async () => {
    const bytes = readFileSync(REFERENCE_PATH);
    for (const chunk of [1, 7, 4096, 1 << 22]) expect(await sha256File(REFERENCE_PATH, chunk), `chunk ${chunk}`).toBe(oneShot(bytes));
  });

  it("hashes an empty file and a file of exactly one chunk", async () => {
    const empty = join(tmp, "empty");
    writeFileSync(empty, new Uint8Array(0));
    expect(await sha256File(empty)).toBe(oneShot(new Uint8Array(0)));
    const exact = join(tmp, "exact");
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => i);
    writeFileSync(exact, bytes);
    expect(await sha256File(exact, 64)).toBe(oneShot(bytes));
    expect(await sha256File(exact, 32)).toBe(oneShot(bytes));
  });

  it("reports a missing file or a directory as a NumgateError naming it", async () => {
    const absent = join(tmp, "absent");
    await expect(sha256File(absent)).rejects.toThrow(expect.objectContaining({ code: "file_not_found", file: absent }));
    await expect(sha256File(tmp)).rejects.toThrow(expect.objectContaining({ code: "file_unreadable", file: tmp }));
  });

  it("hashes several files in order, and names the first it cannot read", async () => {
    const a = join(tmp, "a");
    const b = join(tmp, "b");
    writeFileSync(a, "a");
    writeFileSync(b, "bb");
    expect(await new FileHasher([b, a, b], { inlineBytes }).result()).toEqual([oneShot(Buffer.from("bb")), oneShot(Buffer.from("a")), oneShot(Buffer.from("bb"))]);
    await expect(new FileHasher([a, join(tmp, "gone"), b], { inlineBytes }).result()).rejects.toThrow(expect.objectContaining({ code: "file_not_found", file: join(tmp, "gone") }));
  });

});

describe("FileHasher's choice of thread", () => {
  it("hashes inputs up to inlineBytes at once, on the calling thread, and larger ones on a worker", async () => {
    const size = readFileSync(REFERENCE_PATH).byteLength;
    const here = new FileHasher([REFERENCE_PATH, REFERENCE_PATH], { inlineBytes: 2 * size });
    // Done before construction returned: cancelling changes nothing.
    here.cancel();
    expect(await here.result()).toHaveLength(2);
    const worker = new FileHasher([REFERENCE_PATH, REFERENCE_PATH], { inlineBytes: 2 * size - 1, chunkBytes: 1 });
    worker.cancel();
    await expect(worker.result()).rejects.toThrow(expect.objectContaining({ name: "AbortError" }));
  });

  it("stops a worker once cancelled: its result is an AbortError", async () => {
    const hasher = new FileHasher([REFERENCE_PATH, REFERENCE_PATH], { chunkBytes: 1, inlineBytes: 0 });
    hasher.cancel();
    await expect(hasher.result()).rejects.toThrow(expect.objectContaining({ name: "AbortError" }));
  });
});
