/**
 * Whether everything published while an episode was recorded is in its file: per topic, the
 * messages seen on the topic during the episode against the file's count. One more in the file
 * is fine (a latched topic's message from before the episode opens it); fewer is a message
 * missing. Missing messages the recorder counted as dropped (queue full, closing, a write error,
 * unserialisable) are accounted for; the rest were lost silently, and are reported as
 * `unaccounted` so that a caller counts them as dropped.
 */
export interface TopicAccount {
  published: number;
  in_file: number;
  missing: number;
}

export interface EpisodeAccounting {
  topics: Record<string, TopicAccount>;
  /** Messages published while recorded that are not in the file. */
  not_in_file: number;
  /** Of those, the ones no drop counter explains. */
  unaccounted: number;
}

const count = (v: unknown): number => (typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : 0);

export function accountEpisode(published: Iterable<readonly [string, number]>, inFile: Readonly<Record<string, number>>, countedDrops: number): EpisodeAccounting {
  const topics: Record<string, TopicAccount> = {};
  let notInFile = 0;
  for (const [topic, n] of published) {
    const p = count(n);
    const f = count(Object.prototype.hasOwnProperty.call(inFile, topic) ? inFile[topic] : 0);
    const missing = Math.max(0, p - f);
    topics[topic] = { published: p, in_file: f, missing };
    notInFile += missing;
  }
  return { topics, not_in_file: notInFile, unaccounted: Math.max(0, notInFile - count(countedDrops)) };
}
