import { QUESTION_TYPE_IDS } from "../spatial/question_types.js";
import type { Split } from "./dataset_split.js";

export type SplitCounts = Record<Split | "total", number>;

function zero(): SplitCounts {
  return { train: 0, val: 0, test: 0, total: 0 };
}

function bump(c: SplitCounts, split: Split, n = 1): void {
  c[split] += n;
  c.total += n;
}

function addAll(into: Record<string, number>, from: Partial<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) if (v) into[k] = (into[k] ?? 0) + v;
}

/** The counts an export's meta.json reports, per split and per question type. */
export interface ExportCounts {
  scenes: SplitCounts;
  episodes: SplitCounts;
  images: SplitCounts;
  vqa: SplitCounts;
  vqa_by_type: Record<string, SplitCounts>;
  progress_frames: SplitCounts;
  /** Candidate questions not asked (ambiguous, too small...), by reason, as `eval` reports them. */
  skipped_questions: Record<string, number>;
  /** Generated questions the engine refused on the truth scene, by status (none expected). */
  unanswered: Record<string, number>;
  /** Episodes left out because their scenario moved onto a seed already exported. */
  duplicate_episodes: number;
}

/** Counts what an export writes, as it writes it. */
export class ExportTally {
  private readonly c: ExportCounts = {
    scenes: zero(),
    episodes: zero(),
    images: zero(),
    vqa: zero(),
    // Every type listed (zeros included), in the engine's order, so a missing type shows.
    vqa_by_type: Object.fromEntries(QUESTION_TYPE_IDS.map((t) => [t, zero()])),
    progress_frames: zero(),
    skipped_questions: {},
    unanswered: {},
    duplicate_episodes: 0,
  };

  scene(split: Split, questionTypes: readonly string[], skipped: Partial<Record<string, number>>, unanswered: Record<string, number>): void {
    bump(this.c.scenes, split);
    bump(this.c.images, split);
    for (const t of questionTypes) {
      bump(this.c.vqa, split);
      bump((this.c.vqa_by_type[t] ??= zero()), split);
    }
    addAll(this.c.skipped_questions, skipped);
    addAll(this.c.unanswered, unanswered);
  }

  episode(split: Split): void {
    bump(this.c.episodes, split);
  }

  progressFrame(split: Split): void {
    bump(this.c.images, split);
    bump(this.c.progress_frames, split);
  }

  duplicateEpisode(): void {
    this.c.duplicate_episodes++;
  }

  /** A deep copy, keys in a fixed order (meta.json is byte-for-byte reproducible). */
  counts(): ExportCounts {
    const sorted = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
    return {
      ...structuredClone(this.c),
      skipped_questions: sorted(this.c.skipped_questions),
      unanswered: sorted(this.c.unanswered),
    };
  }
}
