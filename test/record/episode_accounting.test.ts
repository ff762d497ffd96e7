import { describe, expect, it } from "vitest";
import { accountEpisode } from "../../src/record/episode_accounting.js";
import { seededRandom } from "./mcap_test_helpers.js";

/** collect's check that everything published while an episode was recorded is in its file. */
describe("episode accounting", () => {
  it("all in the file: nothing missing; one more in the file (a latched message) is fine", () => {
    const a = accountEpisode([["/camera/color/image_raw", 235], ["/reward/spec", 0], ["mocap/frames", 2400]], { "/camera/color/image_raw": 235, "/reward/spec": 1, "mocap/frames": 2400 }, 0);
    expect(a).toEqual({
      topics: {
        "/camera/color/image_raw": { published: 235, in_file: 235, missing: 0 },
        "/reward/spec": { published: 0, in_file: 1, missing: 0 },
        "mocap/frames": { published: 2400, in_file: 2400, missing: 0 },
      },
      not_in_file: 0, unaccounted: 0,
    });
  });

  it("messages missing from the file: those the recorder counted as dropped are accounted for, the rest are not", () => {
    const published: [string, number][] = [["/a", 100], ["/b", 50], ["/c", 10]];
    expect(accountEpisode(published, { "/a": 97, "/b": 50 }, 3)).toMatchObject({ not_in_file: 13, unaccounted: 10 });
    expect(accountEpisode(published, { "/a": 97, "/b": 50, "/c": 10 }, 3)).toMatchObject({ not_in_file: 3, unaccounted: 0 });
    // More counted drops than missing messages (drops of other channels) never make a negative.
    expect(accountEpisode(published, { "/a": 100, "/b": 50, "/c": 10 }, 7)).toMatchObject({ not_in_file: 0, unaccounted: 0 });
  });

  it("hostile counts (negative, NaN, fractions, inherited keys) never make missing messages disappear or go negative", () => {
    const a = accountEpisode([["toString", 5], ["/x", NaN], ["/y", -4], ["/z", 2.5]], { "/x": 3, "/y": NaN, "/z": -1 } as Record<string, number>, NaN);
    expect(a.topics.toString).toEqual({ published: 5, in_file: 0, missing: 5 });
    expect(a.unaccounted).toBe(5);
    const rnd = seededRandom(5);
    for (let i = 0; i < 500; i++) {
      const pub: [string, number][] = Array.from({ length: 5 }, (_, k) => [`/t${k}`, Math.floor(rnd() * 100)]);
      const file = Object.fromEntries(pub.map(([t, n]) => [t, Math.max(0, n - Math.floor(rnd() * 3))]));
      const drops = Math.floor(rnd() * 6);
      const r = accountEpisode(pub, file, drops);
      const missing = pub.reduce((m, [t, n]) => m + n - file[t], 0);
      expect(r.not_in_file).toBe(missing);
      expect(r.unaccounted).toBe(Math.max(0, missing - drops));
    }
  });
});
