import type { ChartConfiguration } from "chart.js";
import { chartPng } from "./chart_png.js";

/** What eval reports per question type (src/eval/spatial_scoring.ts TypeSummary, the fields drawn here). */
export interface TypeScore {
  n: number;
  category: string;
  accuracy: number;
  within_0_5x_2x: number;
  within_10pct: number;
}

/** Types with no question asked are left out (nothing to show); the rest sorted by category, then name. */
export function drawnTypes(byType: Readonly<Record<string, TypeScore>>): [string, TypeScore][] {
  return Object.entries(byType)
    .filter(([, s]) => s.n > 0)
    .sort(([a, x], [b, y]) => (x.category === y.category ? a.localeCompare(b) : x.category.localeCompare(y.category)));
}

const pct = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 10 : null);

/**
 * Accuracy per question type as horizontal bars: right answers for yes/no, which-one, clock and
 * the other exact kinds; within [0.5x, 2x] and within 10% of the truth for metric answers.
 */
export async function drawAccuracyFigure(byType: Readonly<Record<string, TypeScore>>, title: string): Promise<Buffer> {
  const types = drawnTypes(byType);
  const metric = (s: TypeScore) => s.category === "quantitative";
  const config: ChartConfiguration<"bar", (number | null)[], string> = {
    type: "bar",
    data: {
      labels: types.map(([t, s]) => `${t} (${s.category}, n=${s.n})`),
      datasets: [
        { label: "correct (exact answers)", data: types.map(([, s]) => (metric(s) ? null : pct(s.accuracy))), backgroundColor: "#1f77b4" },
        { label: "within [0.5x, 2x] (metric answers)", data: types.map(([, s]) => (metric(s) ? pct(s.within_0_5x_2x) : null)), backgroundColor: "#2ca02c" },
        { label: "within 10% (metric answers)", data: types.map(([, s]) => (metric(s) ? pct(s.within_10pct) : null)), backgroundColor: "#ff7f0e" },
      ],
    },
    options: {
      indexAxis: "y",
      skipNull: true,
      plugins: { title: { display: true, text: title, font: { size: 15 } }, legend: { position: "bottom" } },
      scales: { x: { min: 0, max: 100, title: { display: true, text: "% of questions" } }, y: { ticks: { autoSkip: false } } },
    },
  };
  return chartPng(config, 900, Math.max(260, 130 + types.length * 24));
}
