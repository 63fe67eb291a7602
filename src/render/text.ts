/** Text helpers shared by report/ and the gate units: sanitising, escaping and number formatting. */

// CSI (ESC [ ... final), OSC (ESC ] ... BEL | ESC \), other two-char ESC sequences, and 8-bit CSI.
// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 controls except TAB/LF/CR, DEL, C1 controls, and the XML non-characters U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// Every character any of the three patterns above starts a match with (ESC and 8-bit CSI are among the
// controls; a valid surrogate pair matches too, and goes the long way). Most strings in a report
// have none: one native scan then replaces three.
// eslint-disable-next-line no-control-regex
const MAY_NEED_STRIPPING_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]/;

/** Removes ANSI escape sequences, control characters (keeping \t \n \r) and lone surrogates. */
export function stripControl(s: string): string {
  if (!MAY_NEED_STRIPPING_RE.test(s)) return s;
  return s.replace(ANSI_RE, "").replace(CONTROL_RE, "").replace(LONE_SURROGATE_RE, "\ufffd");
}

/** `stripControl`, then newlines and tabs folded to single spaces: for one-line fields. */
export function oneLine(s: string): string {
  return stripControl(s).replace(/[\r\n\t]+/g, " ").trim();
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** HTML-escapes text for element content and quoted attribute values (after stripping controls). */
export function escapeHtml(s: string): string {
  return stripControl(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Seconds with exactly three decimals, never exponent notation (JUnit `time`). */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "0.000";
  return s.toFixed(3);
}

/** A cosine: enough digits to tell 0.99999 from 0.999991; `n/a` for null. */
export function formatCos(c: number | null | undefined): string {
  if (c === null || c === undefined) return "n/a";
  if (c === 1) return "1";
  const d = 1 - c;
  if (d > 0 && d < 1e-3) {
    // Show the digits after the run of nines: 0.9999871 -> "0.9999871".
    const digits = Math.min(12, Math.max(6, Math.ceil(-Math.log10(d)) + 3));
    // Within 1e-12 of 1 every shown digit rounds away: print "1.0", never a bare "1.".
    return c.toFixed(digits).replace(/0+$/, "").replace(/\.$/, ".0");
  }
  return c.toFixed(6).replace(/0+$/, "").replace(/\.$/, ".0");
}

/** A general metric: 4 significant digits, `n/a` for null. */
export function formatNum(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return "n/a";
  if (x === 0) return "0";
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1);
}

/** A signed delta: "+1.2e-5", "-0.003", "0". */
export function formatDelta(x: number | null | undefined): string {
  if (x === null || x === undefined) return "n/a";
  if (x === 0) return "0";
  return (x > 0 ? "+" : "") + formatNum(x, 3);
}

/** Threshold map rendered as `min_cos=0.99999, k=5`. */
export function formatThresholds(t: Readonly<Record<string, number>>): string {
  return Object.keys(t)
    .sort()
    .map((k) => `${k}=${formatNum(t[k], 8)}`)
    .join(", ");
}
