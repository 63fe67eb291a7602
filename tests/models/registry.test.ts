import { describe, expect, it } from "vitest";
import { FAMILY_NAMES, isFamilyName, loadFamily } from "../../src/models/registry.ts";

describe("the family registry", () => {
  it("loads every family it lists, under the name its manifests use", async () => {
    expect(FAMILY_NAMES).toEqual(["qwen3-vl", "qwen3.5"]);
    for (const name of FAMILY_NAMES) {
      expect(isFamilyName(name)).toBe(true);
      expect((await loadFamily(name)).name).toBe(name);
    }
  });

  it("names the field and the known families for a name no family has", async () => {
    expect(isFamilyName("qwen4")).toBe(false);
    expect(isFamilyName("toString")).toBe(false);
    await expect(loadFamily("toString", { file: "gates/x.yaml", field: "family" })).rejects.toMatchObject({
      code: "schema_violation",
      message: 'gates/x.yaml: family: unknown model family "toString" (families: qwen3-vl, qwen3.5)',
      file: "gates/x.yaml",
      field: "family",
    });
  });
});
