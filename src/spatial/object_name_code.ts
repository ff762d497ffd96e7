/**
 * A number naming an object by what it is called ("red cup"): the 32-bit FNV-1a hash of the name,
 * lower case, words separated by one space. A superlative's answer is an object that fills no
 * slot of the question, so its encoded value cannot be a slot index; this code lets an answer
 * about the perceived scene be compared exactly with one about the truth scene (and with a
 * model's text naming the object) without knowing either scene's track ids.
 */
export function objectNameCode(name: string): number {
  let h = 0x811c9dc5;
  let space = false;
  let started = false;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      space = started;
      continue;
    }
    if (space) {
      h = Math.imul(h ^ 32, 0x01000193);
      space = false;
    }
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
    started = true;
  }
  return h >>> 0;
}
