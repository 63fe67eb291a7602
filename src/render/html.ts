/**
 * HTML building that escapes by default: `html` is a tagged template in which every interpolated
 * string is escaped (after `stripControl`) unless it is already `SafeHtml`, i.e. was itself built
 * by `html`. Markup from input can only get into a page through a deliberate `trustedHtml`.
 */
import type { Verdict } from "../verdicts/verdict.ts";
import { escapeHtml } from "./text.ts";

export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function piece(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(piece).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Markup numgate generated itself (an SVG chart): emitted as is. Never pass it input text. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export const td = (content: HtmlValue, cls = ""): SafeHtml => (cls ? html`<td class="${cls}">${content}</td>` : html`<td>${content}</td>`);
/** A numeric cell; class "n" (see the report CSS), short because a 36-layer report has tens of thousands. */
export const tdNum = (content: HtmlValue): SafeHtml => html`<td class="n">${content}</td>`;

const VERDICT_LABEL: Record<Verdict, string> = { pass: "✓ pass", fail: "✗ FAIL", error: "! ERROR", skipped: "– skipped" };

export function verdictLabel(v: Verdict): string {
  return VERDICT_LABEL[v];
}

export function verdictBadge(v: Verdict, tag: "span" | "td" = "span"): SafeHtml {
  return tag === "td"
    ? html`<td class="verdict v-${v}" data-verdict="${v}">${VERDICT_LABEL[v]}</td>`
    : html`<span class="verdict v-${v}" data-verdict="${v}">${VERDICT_LABEL[v]}</span>`;
}
