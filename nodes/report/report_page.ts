import type { ReportFile } from "./report_dir.js";

/**
 * The report's index.html: one self-contained page (inline style, figures referenced by their
 * relative file names beside it), readable without a server. All text is escaped: task names,
 * questions and, above all, a model's answers come from outside.
 */

export interface PageFigure {
  file: ReportFile;
  caption: string;
  /** Pixel size of the PNG: the page reserves the space, and a figure that does not load is noticed. */
  width: number;
  height: number;
}

/** A table cell: text, optionally with a colour swatch before it (a box's colour in the frame figure). */
export type PageCell = string | { text: string; swatch: string };

export interface PageTable {
  title: string;
  head: string[];
  rows: PageCell[][];
}

export interface ReportPage {
  title: string;
  subtitle: string;
  /** The key numbers, in order. */
  numbers: [string, string][];
  figures: PageFigure[];
  tables: PageTable[];
  /** Said at the top when something could not be shown (a figure left out, text missing from figures). */
  notes: string[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** Only colours the report makes itself ("#1f77b4") reach a style attribute. */
function swatchColor(color: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(color) ? color : "#000000";
}

function cell(c: PageCell): string {
  if (typeof c === "string") return escapeHtml(c);
  return `<span class="swatch" style="background:${swatchColor(c.swatch)}"></span>${escapeHtml(c.text)}`;
}

/**
 * After load, each figure says whether it loaded (data-loaded="W×H" or "missing"), a missing one
 * visibly, and the body counts them (data-figures-loaded="n/m"): a page moved without its PNGs
 * says so instead of showing empty frames. Headless browsers read the same attributes.
 */
const LOAD_CHECK = `
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.figure"), ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    var img = imgs[i], loaded = img.complete && img.naturalWidth > 0;
    img.setAttribute("data-loaded", loaded ? img.naturalWidth + "x" + img.naturalHeight : "missing");
    if (loaded) ok++;
    else {
      var note = document.createElement("p");
      note.className = "missing";
      note.textContent = "figure missing: " + img.getAttribute("src") + " (keep the PNG files beside index.html)";
      img.parentNode.insertBefore(note, img);
    }
  }
  document.body.setAttribute("data-figures-loaded", ok + "/" + imgs.length);
});`;

const STYLE = `
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 24px auto; max-width: 960px; color: #222; padding: 0 12px; }
h1 { font-size: 22px; margin-bottom: 4px; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 20px; font-size: 14px; }
td, th { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
table.numbers td:first-child { color: #555; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { color: #444; font-size: 14px; margin-top: 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.note, .missing { background: #fff4d6; border: 1px solid #e8c766; padding: 6px 10px; }
`;

export function renderPage(p: ReportPage): string {
  const numbers = p.numbers.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join("\n");
  const figures = p.figures.map((f) => [
    "<figure>",
    `<img class="figure" src="${escapeHtml(f.file)}" width="${f.width}" height="${f.height}" alt="${escapeHtml(f.caption)}">`,
    `<figcaption>${escapeHtml(f.caption)}</figcaption>`,
    "</figure>",
  ].join("\n")).join("\n");
  const tables = p.tables.map((t) => [
    `<h2>${escapeHtml(t.title)}</h2>`,
    "<table>",
    `<tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`,
    ...t.rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join("")}</tr>`),
    "</table>",
  ].join("\n")).join("\n");
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(p.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(p.title)}</h1>`,
    `<p class="subtitle">${escapeHtml(p.subtitle)}</p>`,
    ...p.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`),
    `<table class="numbers">\n${numbers}\n</table>`,
    figures,
    tables,
    `<script>${LOAD_CHECK}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
