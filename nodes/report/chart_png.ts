import type { ChartConfiguration, ChartItem, ChartType, Plugin } from "chart.js";
import { figureBackend } from "./figure_backend.js";

/** Charts are drawn on a transparent canvas; a figure in a file or a dark page viewer needs its own background. */
const whiteBackground: Plugin = {
  id: "whiteBackground",
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** A chart.js chart drawn once on a `width` × `height` canvas, as PNG bytes. */
export async function chartPng<T extends ChartType>(config: ChartConfiguration<T>, width: number, height: number): Promise<Buffer> {
  const backend = await figureBackend();
  const canvas = backend.canvas.createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  // chart.js takes a browser canvas context; @napi-rs/canvas's implements the same 2D API.
  const chart = new backend.chart.Chart(ctx as unknown as ChartItem, {
    ...config,
    options: { ...config.options, animation: false, responsive: false, devicePixelRatio: 1 },
    plugins: [...(config.plugins ?? []), whiteBackground],
  } as ChartConfiguration<T>);
  try {
    return await canvas.encode("png");
  } finally {
    chart.destroy();
  }
}
