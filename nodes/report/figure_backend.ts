import { SpatialRewardError } from "../../src/errors.js";

/**
 * The drawing libraries of the report, loaded only when a report is written: @napi-rs/canvas
 * (Skia; its binary comes as an npm package per platform) and chart.js drawn on its canvas.
 * Commands without --report never load the native module.
 */
export type CanvasModule = typeof import("@napi-rs/canvas");
export type ChartModule = typeof import("chart.js");

export interface FigureBackend {
  canvas: CanvasModule;
  chart: ChartModule;
  /** The font family every figure asks for; "" when the system has no font (text is then missing from the figures). */
  fontFamily: string;
}

/** Preferred families, in order; Debian's fonts-dejavu-core is the usual one on a server. */
const FAMILIES = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

let loaded: Promise<FigureBackend> | null = null;

/** The backend, loaded once. A platform without the canvas binary gets a typed error saying what to install. */
export function figureBackend(): Promise<FigureBackend> {
  loaded ??= load().catch((e: unknown) => {
    loaded = null;
    throw e;
  });
  return loaded;
}

async function load(): Promise<FigureBackend> {
  let canvas: CanvasModule;
  let chart: ChartModule;
  try {
    canvas = await import("@napi-rs/canvas");
    chart = await import("chart.js");
  } catch (e) {
    throw new SpatialRewardError(
      "backend_unavailable",
      `the report's figures need @napi-rs/canvas and chart.js, which did not load here (${e instanceof Error ? e.message : String(e)}); run npm install`,
    );
  }
  chart.Chart.register(...chart.registerables);
  // Figures are files, not screens: no animation, no resizing to a container.
  chart.Chart.defaults.animation = false;
  chart.Chart.defaults.responsive = false;
  const installed = new Set(canvas.GlobalFonts.families.map((f) => f.family));
  const fontFamily = FAMILIES.find((f) => installed.has(f)) ?? canvas.GlobalFonts.families[0]?.family ?? "";
  if (fontFamily !== "") chart.Chart.defaults.font.family = `"${fontFamily}", sans-serif`;
  return { canvas, chart, fontFamily };
}

/** A CSS font value in the backend's family. */
export function font(backend: FigureBackend, px: number, bold = false): string {
  return `${bold ? "bold " : ""}${px}px ${backend.fontFamily ? `"${backend.fontFamily}", ` : ""}sans-serif`;
}
