/**
 * Dumps past 2 GiB, made sparse so they cost neither time nor disk: the header places a huge
 * u8 tensor first and a small f32 tensor after it, the small tensor's bytes are written at
 * their offset, and the rest of the file is a hole. readFileSync refused such files
 * (ERR_FS_FILE_TOO_LARGE); the lazy reader opens them and reads the tail by position.
 *
 * NUMGATE_LARGE_TESTS=1 also reads the 2.2 GiB tensor whole and hashes the whole file (seconds
 * of I/O and 2.2 GB of memory, so not on every run).
 */
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileHasher } from "../../src/files/hash.ts";
import { readSafetensorsSync } from "../../src/tensor/safetensors.ts";

const tmp = mkdtempSync(join(tmpdir(), "numgate-large-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const large = process.env["NUMGATE_LARGE_TESTS"] === "1";
const MiB = 2 ** 20;

/** A sparse file: `bigBytes` of zeros (a hole), then `tail` as f32, as one safetensors dump. */
function sparseDump(path: string, bigBytes: number, tail: Float32Array): { dataStart: number } {
  const tailBytes = tail.byteLength;
  const header = JSON.stringify({
    big: { dtype: "U8", shape: [bigBytes], data_offsets: [0, bigBytes] },
    tail: { dtype: "F32", shape: [tail.length], data_offsets: [bigBytes, bigBytes + tailBytes] },
  });
  const padded = header.padEnd(Math.ceil(header.length / 8) * 8, " ");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(padded.length));
  const fd = openSync(path, "w");
  try {
    writeSync(fd, prefix, 0, 8, 0);
    writeSync(fd, Buffer.from(padded), 0, padded.length, 8);
    const dataStart = 8 + padded.length;
    // Writing only the tail leaves everything before it a hole that reads as zeros.
    writeSync(fd, new Uint8Array(tail.buffer), 0, tailBytes, dataStart + bigBytes);
    return { dataStart };
  } finally {
    closeSync(fd);
  }
}

describe("a dump larger than 2 GiB", () => {
  const path = join(tmp, "large.safetensors");
  const bigBytes = 2 ** 31 + 200 * MiB; // the tail starts past 2^31
  const tail = Float32Array.of(1.5, -2, 3.25, 4);
  const { dataStart } = sparseDump(path, bigBytes, tail);

  it("opens from the header alone and reads a tensor beyond the 2 GiB offset, in little memory", () => {
    expect(statSync(path).size).toBeGreaterThan(2 ** 31);
    expect(statSync(path).blocks * 512).toBeLessThan(MiB); // sparse: nothing written in between
    const rss0 = process.memoryUsage().rss;
    const f = readSafetensorsSync(path);
    expect(f.info("big").byteLength).toBe(bigBytes);
    expect(dataStart + f.info("tail").dataOffsets[0]).toBeGreaterThan(2 ** 31);
    const t = f.get("tail");
    const rssGrowth = process.memoryUsage().rss - rss0;
    expect(Array.from(t.data as Float32Array)).toEqual(Array.from(tail));
    expect(t.data.buffer.byteLength).toBe(16); // a buffer of the tensor's own size, viewed in place
    console.log(`>2 GiB dump (${(statSync(path).size / 2 ** 30).toFixed(2)} GiB): open + read "tail" grew RSS by ${(rssGrowth / MiB).toFixed(1)} MiB`);
    expect(rssGrowth).toBeLessThan(32 * MiB);
    f.close();
  });

  it("hashes in constant memory (a 64 MiB sparse file here; the whole dump with NUMGATE_LARGE_TESTS=1)", async () => {
    const small = join(tmp, "hole.bin");
    const fd = openSync(small, "w");
    writeSync(fd, Uint8Array.of(7), 0, 1, 64 * MiB - 1);
    closeSync(fd);
    const expected = createHash("sha256").update(new Uint8Array(64 * MiB - 1)).update(Uint8Array.of(7)).digest("hex");
    const rss0 = process.memoryUsage().rss;
    expect(await new FileHasher([small]).result()).toEqual([expected]);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(24 * MiB);
  });

  it.runIf(large)("reads the 2.2 GiB tensor whole (chunked reads) and hashes the whole file", async () => {
    const f = readSafetensorsSync(path);
    const t0 = performance.now();
    const big = f.get("big");
    const readSeconds = (performance.now() - t0) / 1000;
    expect(big.data.length).toBe(bigBytes);
    expect(big.data[bigBytes - 1]).toBe(0);
    console.log(`read ${(bigBytes / 2 ** 30).toFixed(2)} GiB tensor in ${readSeconds.toFixed(2)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    const t1 = performance.now();
    const [hash] = await new FileHasher([path]).result();
    console.log(`sha256 of the ${(statSync(path).size / 2 ** 30).toFixed(2)} GiB dump in ${((performance.now() - t1) / 1000).toFixed(2)} s: ${hash}`);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
