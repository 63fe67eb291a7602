import { readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { validateXML } from "xmllint-wasm";
import { describe, expect, it } from "vitest";
import { renderJunit } from "../../src/report/junit.ts";
import type { Report } from "../../src/report/schema.ts";
import { oneLine } from "../../src/report/text.ts";
import { EVIL_VISIBLE, expectGolden, hostileSample, loadSample, ROOT } from "./helpers.ts";

const XSD = join(ROOT, "vendor", "junit-10.xsd");

async function validate(xml: string): Promise<void> {
  const result = await validateXML({
    xml: [{ fileName: "junit.xml", contents: xml }],
    schema: [{ fileName: "junit-10.xsd", contents: readFileSync(XSD, "utf8") }],
  });
  expect(result.errors.map((e) => e.rawMessage).join("\n")).toBe("");
  expect(result.valid).toBe(true);
}

type Node = Record<string, unknown>;
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function parse(xml: string): { root: Node; suites: Node[] } {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseAttributeValue: false, trimValues: false });
  const doc = parser.parse(xml) as { testsuites: Node };
  return { root: doc.testsuites, suites: asArray(doc.testsuites["testsuite"] as Node | Node[]) };
}

/** Expected testcases per run, computed from the report (one per (rung, prompt); one per prompt-less rung). */
function expectedCases(r: Report) {
  return r.runs.map((run) => {
    const verdicts = run.rungs.flatMap((g) => (g.prompts.length ? g.prompts.map((p) => p.verdict) : [g.verdict]));
    return {
      id: run.id,
      tests: verdicts.length,
      failures: verdicts.filter((v) => v === "fail").length,
      errors: verdicts.filter((v) => v === "error").length,
      skipped: verdicts.filter((v) => v === "skipped").length,
    };
  });
}

describe("JUnit XML", () => {
  it("golden: renderJunit(sample) is pinned", () => {
    expectGolden("junit.xml", renderJunit(loadSample()));
  });

  it("validates against vendor/junit-10.xsd", async () => {
    await validate(renderJunit(loadSample()));
    await validate(renderJunit(hostileSample()));
  });

  it("parses back with the expected suites, counts, names and messages", () => {
    const r = loadSample();
    const { root, suites } = parse(renderJunit(r));
    const exp = expectedCases(r);
    expect(suites.map((s) => s["@name"])).toEqual(r.runs.map((x) => x.id));
    expect(root["@tests"]).toBe(String(exp.reduce((a, e) => a + e.tests, 0)));
    expect(root["@failures"]).toBe(String(exp.reduce((a, e) => a + e.failures, 0)));
    expect(root["@errors"]).toBe(String(exp.reduce((a, e) => a + e.errors, 0)));
    suites.forEach((s, i) => {
      const e = exp[i]!;
      const run = r.runs[i]!;
      expect(s["@tests"]).toBe(String(e.tests));
      expect(s["@failures"]).toBe(String(e.failures));
      expect(s["@errors"]).toBe(String(e.errors));
      expect(s["@skipped"]).toBe(String(e.skipped));
      expect(s["@file"]).toBe(run.spec_file);
      const cases = asArray(s["testcase"] as Node | Node[]);
      expect(cases).toHaveLength(e.tests);
      const keys = cases.map((c) => `${String(c["@classname"])}::${String(c["@name"])}`);
      expect(new Set(keys).size).toBe(keys.length); // unique classname + name
      for (const c of cases) {
        expect(c["@classname"]).toBe(`numgate.${run.model.replace(/\./g, "_")}.${run.candidate.replace(/\./g, "_")}`);
        // junit-10.xsd has no file attribute on <testcase>; the spec is on the suite (above).
        expect(c["@file"]).toBeUndefined();
        expect(String(c["@time"])).toMatch(/^\d+\.\d{3}$/);
        for (const tag of ["failure", "error"]) {
          const f = c[tag] as Node | undefined;
          if (f === undefined) continue;
          const message = String(f["@message"]);
          const body = String(f["#text"]);
          expect(body.split("\n")[0]).toBe(message); // message is also the text's first line
          expect(message.length).toBeGreaterThan(0);
        }
        if (c["skipped"] !== undefined) expect(String((c["skipped"] as Node)["@message"]).length).toBeGreaterThan(0);
      }
      // Failing prompt cases carry the prompt's first-divergence message.
      for (const rung of run.rungs) {
        for (const p of rung.prompts) {
          if (p.verdict !== "fail") continue;
          const name = `${rung.id} [${oneLine(p.prompt)}]`;
          const c = cases.find((x) => x["@name"] === name);
          expect(c, name).toBeDefined();
          expect((c!["failure"] as Node)["@message"]).toBe(oneLine(p.message));
        }
      }
    });
  });

  it("strips ANSI escapes and control characters; escapes markup; time never in exponent notation", async () => {
    const r = hostileSample();
    r.runs[0]!.rungs[0]!.duration_s = 1e-7;
    r.runs[0]!.duration_s = 123456.78951;
    const xml = renderJunit(r);
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    expect(xml).not.toContain("[31m");
    expect(xml).not.toMatch(/time="[^"]*e/i);
    expect(xml).toContain('time="123456.790"');
    expect(xml).not.toContain("<script>");
    await validate(xml);
    const { suites } = parse(xml);
    const names = asArray(suites[0]!["testcase"] as Node | Node[]).map((c) => String(c["@name"]));
    expect(names.some((n) => n.includes(EVIL_VISIBLE))).toBe(true);
  });

  it("the XSD check is not vacuous: a stray attribute or element is rejected", async () => {
    const xml = renderJunit(loadSample());
    for (const bad of [xml.replace("<testcase ", '<testcase bogus="1" '), xml.replace("</testsuite>", "<oops/></testsuite>")]) {
      const result = await validateXML({
        xml: [{ fileName: "junit.xml", contents: bad }],
        schema: [{ fileName: "junit-10.xsd", contents: readFileSync(XSD, "utf8") }],
      });
      expect(result.valid).toBe(false);
    }
  });

  it("an empty report is still valid JUnit", async () => {
    const r = { ...loadSample(), runs: [] };
    const xml = renderJunit(r);
    await validate(xml);
    expect(parse(xml).root["@tests"]).toBe("0");
  });
});
