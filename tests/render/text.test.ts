import { describe, expect, it } from "vitest";
import { escapeHtml, stripControl } from "../../src/render/text.ts";

/** stripControl as it was before its fast path: the three replacements, always. */
function stripAlways(s: string): string {
  // eslint-disable-next-line no-control-regex
  const ansi = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g;
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  return s.replace(ansi, "").replace(control, "").replace(lone, "\ufffd");
}

describe("stripControl", () => {
  it("returns text with nothing to strip unchanged, and strips as the three replacements do otherwise", () => {
    expect(stripControl("layer 3 cos 0.99 <fine> & \"ok\"\t\n")).toBe("layer 3 cos 0.99 <fine> & \"ok\"\t\n");
    // Every code unit from U+0000 to U+00FF and the special ones above, alone and inside text and
    // escape sequences: the fast path must never skip a string the replacements would change.
    const units = [...Array.from({ length: 256 }, (_, i) => i), 0x2028, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffd, 0xfffe, 0xffff];
    for (const u of units) {
      const c = String.fromCharCode(u);
      for (const s of [c, `a${c}b`, `\u001b[31m${c}\u001b[0m`, `\u009b1m${c}`, `${c}\ud83d\ude00`, `\ud83d${c}`]) {
        expect(stripControl(s), `U+${u.toString(16)} in ${JSON.stringify(s)}`).toBe(stripAlways(s));
      }
    }
  });

  it("keeps a valid surrogate pair and replaces a lone one", () => {
    expect(stripControl("ok \ud83d\ude00")).toBe("ok \ud83d\ude00");
    expect(stripControl("bad \ud83d!")).toBe("bad \ufffd!");
  });
});

describe("escapeHtml", () => {
  it("escapes markup after stripping controls", () => {
    expect(escapeHtml("<b>&\"'</b>")).toBe("&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;");
    expect(escapeHtml("\u001b[31m<x>\u0007")).toBe("&lt;x&gt;");
    expect(escapeHtml("plain 0.999871")).toBe("plain 0.999871");
  });
});
