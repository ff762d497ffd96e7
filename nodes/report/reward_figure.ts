import type { ChartConfiguration, ChartDataset } from "chart.js";
import { chartPng } from "./chart_png.js";

/** One frame of the episode: what the reward node published for it (null: nothing for this frame) and the truth. */
export interface RewardPoint {
  frame: number;
  /** Perceived progress 0..1, or null when no reward came for this frame. */
  progress: number | null;
  /** Perceived reward (−residual, metres), or null. */
  reward: number | null;
  /** The same spec on the simulator's ground truth, when there is one. */
  trueProgress: number | null;
}

/** Moments to mark with a vertical line; a frame < 0 is not marked (it did not happen). */
export interface RewardMarks {
  success: number;
  trueSuccess: number;
  place: number;
}

const finite = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

type LineData = ChartDataset<"line", ({ x: number; y: number | null })[]>;

function vertical(label: string, frame: number, color: string, dash: number[]): LineData {
  return {
    label,
    data: [{ x: frame, y: 0 }, { x: frame, y: 1 }],
    borderColor: color,
    backgroundColor: color,
    borderDash: dash,
    borderWidth: 2,
    pointRadius: 0,
    yAxisID: "progress",
  };
}

/** The reward and progress over the episode, with the success moment marked: a PNG. */
export async function drawRewardFigure(points: readonly RewardPoint[], marks: RewardMarks, title: string): Promise<Buffer> {
  const datasets: LineData[] = [
    {
      label: "progress (perceived)",
      data: points.map((p) => ({ x: p.frame, y: finite(p.progress) })),
      borderColor: "#1f77b4",
      backgroundColor: "#1f77b4",
      borderWidth: 2.5,
      pointRadius: 0,
      spanGaps: false,
      yAxisID: "progress",
    },
  ];
  if (points.some((p) => finite(p.trueProgress) !== null)) {
    datasets.push({
      label: "progress (ground truth)",
      data: points.map((p) => ({ x: p.frame, y: finite(p.trueProgress) })),
      borderColor: "#7f7f7f",
      backgroundColor: "#7f7f7f",
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      yAxisID: "progress",
    });
  }
  datasets.push({
    label: "reward = −residual (m, right axis)",
    data: points.map((p) => ({ x: p.frame, y: finite(p.reward) })),
    borderColor: "#ff7f0e",
    backgroundColor: "#ff7f0e",
    borderWidth: 1.5,
    pointRadius: 0,
    yAxisID: "reward",
  });
  if (marks.place >= 0) datasets.push(vertical(`object set down (frame ${marks.place})`, marks.place, "#8c564b", [2, 3]));
  if (marks.trueSuccess >= 0) datasets.push(vertical(`true success (frame ${marks.trueSuccess})`, marks.trueSuccess, "#7f7f7f", [6, 4]));
  if (marks.success >= 0) datasets.push(vertical(`success (frame ${marks.success})`, marks.success, "#2ca02c", []));
  const rewards = points.map((p) => finite(p.reward)).filter((x): x is number => x !== null);
  const lowest = rewards.length ? Math.min(...rewards) : -1;
  const config: ChartConfiguration<"line", ({ x: number; y: number | null })[]> = {
    type: "line",
    data: { datasets },
    options: {
      parsing: false,
      plugins: {
        title: { display: true, text: title, font: { size: 15 } },
        legend: { position: "bottom" },
      },
      scales: {
        x: { type: "linear", title: { display: true, text: "frame (30 Hz)" }, min: 0, max: Math.max(1, points.length - 1) },
        progress: { type: "linear", position: "left", min: 0, max: 1, title: { display: true, text: "progress" } },
        reward: {
          type: "linear",
          position: "right",
          max: 0,
          min: lowest < 0 ? lowest * 1.05 : -1,
          title: { display: true, text: "reward (m)" },
          grid: { drawOnChartArea: false },
        },
      },
    },
  };
  return chartPng(config, 900, 440);
}
