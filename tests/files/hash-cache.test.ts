import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { configureHashCache, RACY_MARGIN_NS } from "../../src/files/hash-cache.ts";
import { FileHasher } from "../../src/files/hash.ts";

const tmp = mkdtempSync(join(tmpdir(), "numgate-hash-cache-"));
const cacheDir = join(tmp, "cache");
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
const entries = (): string[] => (existsSync(cacheDir) ? readdirSync(cacheDir, { withFileTypes: true }) : []).filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => join(cacheDir, e.name));
const hosts = [
  ["on a worker thread", 0],
  ["on the calling thread", Infinity],
] as const;

// Files changed within RACY_MARGIN_NS of their hashing are never remembered, so the files these
// tests expect to be remembered are written first, and the tests wait that long once.
// The last two are rewritten, one by each host's tests.
const settled = [join(tmp, "a.bin"), join(tmp, "b.bin"), join(tmp, "c0.bin"), join(tmp, "c1.bin")];
beforeAll(async () => {
  for (const [i, p] of settled.entries()) writeFileSync(p, `settled ${i}`);
  await sleep(Number(RACY_MARGIN_NS / 1_000_000n) + 200);
});
afterEach(() => {
  configureHashCache(undefined);
  rmSync(cacheDir, { recursive: true, force: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(hosts)("remembered hashes (%s)", (host, inlineBytes) => {
  const hash = (paths: string[]): Promise<string[]> => new FileHasher(paths, { inlineBytes }).result();

  it("remembers a settled file's hash and, while its identity holds, answers from the entry without reading the file", async () => {
    configureHashCache(cacheDir);
    const [a, b] = settled as [string, string];
    expect(await hash([a, b])).toEqual([sha("settled 0"), sha("settled 1")]);
    expect(entries()).toHaveLength(2);
    // An entry altered by hand is what the next run reports: the file itself was not read again.
    for (const e of entries()) {
      const entry = JSON.parse(readFileSync(e, "utf8")) as { path: string; sha256: string };
      writeFileSync(e, JSON.stringify({ ...entry, sha256: entry.path === a ? "0".repeat(64) : entry.sha256 }));
    }
    expect(await hash([b, a])).toEqual([sha("settled 1"), "0".repeat(64)]);
  });

  it("hashes a file again once it is rewritten, even to the same size and modification time", async () => {
    configureHashCache(cacheDir);
    const k = host === hosts[0][0] ? 2 : 3;
    const c = settled[k] as string;
    expect(await hash([c])).toEqual([sha(`settled ${k}`)]);
    const { atime, mtime } = statSync(c);
    writeFileSync(c, "settled X");
    utimesSync(c, atime, mtime);
    expect(await hash([c])).toEqual([sha("settled X")]);
  });

  it("does not remember a file changed within the racy margin of its hashing", async () => {
    configureHashCache(cacheDir);
    const fresh = join(tmp, `fresh-${inlineBytes}.bin`);
    writeFileSync(fresh, "fresh");
    expect(await hash([fresh])).toEqual([sha("fresh")]);
    expect(entries()).toHaveLength(0);
  });

  it("takes a corrupt or foreign entry for a miss, and a missing file for an error whatever its entry says", async () => {
    configureHashCache(cacheDir);
    const [a, b] = settled as [string, string];
    await hash([a, b]);
    const [first, second] = entries() as [string, string];
    writeFileSync(first, "{ not json");
    const other = JSON.parse(readFileSync(second, "utf8")) as Record<string, unknown>;
    writeFileSync(second, JSON.stringify({ ...other, path: "/somewhere/else.bin" }));
    expect(await hash([a, b])).toEqual([sha("settled 0"), sha("settled 1")]);
    const gone = join(tmp, "gone.bin");
    await expect(hash([a, gone])).rejects.toThrow(expect.objectContaining({ code: "file_not_found", file: gone }));
  });

  it("hashes as before where no cache is configured or its directory cannot be written", async () => {
    const [a] = settled as [string];
    expect(await hash([a])).toEqual([sha("settled 0")]);
    const blocked = join(tmp, "blocked");
    mkdirSync(blocked, { recursive: true });
    chmodSync(blocked, 0o500);
    try {
      configureHashCache(join(blocked, "cache"));
      expect(await hash([a])).toEqual([sha("settled 0")]);
    } finally {
      chmodSync(blocked, 0o700);
    }
  });
});
