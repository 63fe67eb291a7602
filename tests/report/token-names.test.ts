/** Reviewers read token names, not ids: the run carries the vocabulary names its evidence uses. */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.ts";
import { buildReport } from "../../src/report/build.ts";
import { gateRun } from "../helpers/gate-runs.ts";

describe("token names", () => {
  it("names every token id in the evidence from the oracle's vocabulary, and the HTML shows them", async () => {
    const run = await gateRun("fault-int8-clipped-head", { keepGoing: true });
    // mm-colours-a flips at step 6: the oracle says 37 (id 137), the candidate 38 (id 138).
    expect(run.token_names?.["137"]).toBe("37");
    expect(run.token_names?.["138"]).toBe("38");
    expect(run.token_names?.["12"]).toBe("blue");
    const html = renderHtml(buildReport([run]));
    expect(html).toContain('137 <span class="tok">37</span>');
  });
});
