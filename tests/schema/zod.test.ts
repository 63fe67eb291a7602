import { describe, expect, it } from "vitest";
import { z } from "../../src/schema/zod.ts";

describe("numgate's zod", () => {
  it("speaks zod's English messages (zod/mini alone says only 'Invalid input')", () => {
    const r = z.strictObject({ a: z.number(), b: z.string().check(z.minLength(2)) }).safeParse({ a: "s", b: "x", c: 1 });
    expect(r.error?.issues.map((i) => i.message)).toEqual([
      "Invalid input: expected number, received string",
      "Too small: expected string to have >=2 characters",
      'Unrecognized key: "c"',
    ]);
  });
});
