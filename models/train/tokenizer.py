"""The byte-level BPE of a model folder's tokenizer.json, as the runtime encodes text.

The default tokenizer (src/backbone/byte_tokenizer.ts) is GPT-2's scheme: ids 0..255 are the
bytes, 256..259 the special tokens, then merges (`Ġt`, `he`, `Ġthe`, `Ġm`). The runtime encodes
with Hugging Face `tokenizers`, so " the" is one token (262), not four bytes: training must
encode the same way or the model learns ids it is never shown. `tokenizers` is not installed
for /usr/bin/python3 and neither is `regex`, so GPT-2's pre-tokenizer pattern is written with
`re` (letters as [^\\W\\d_], numbers as \\d): identical on ASCII text, which is all the
questions and answers are; test/backbone/torch_parity.test.ts compares ids with the runtime's.
"""
from __future__ import annotations

import json
import re
from typing import Dict, Iterable, List, Tuple

# GPT-2's pattern with \p{L} → [^\W\d_] and \p{N} → \d; `_` is neither letter nor number, so it
# belongs to the punctuation class ` ?[^\s\p{L}\p{N}]+`, which [^\s\w] alone would miss.
_PATTERN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> List[str]:
    keep = lambda b: 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF
    out, n = [], 0
    for b in range(256):
        if keep(b):
            out.append(chr(b))
        else:
            out.append(chr(256 + n))
            n += 1
    return out


class ByteBPE:
    def __init__(self, tokenizer_json: dict):
        self.json = tokenizer_json
        model = tokenizer_json["model"]
        if model.get("type") != "BPE":
            raise ValueError("tokenizer.json: only a byte-level BPE model is supported")
        self.vocab: Dict[str, int] = dict(model["vocab"])
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks: Dict[Tuple[str, str], int] = {m: i for i, m in enumerate(merges)}
        self.byte_char = bytes_to_unicode()
        self.char_byte = {c: b for b, c in enumerate(self.byte_char)}
        self.id_token = {i: t for t, i in self.vocab.items()}
        self.special: Dict[str, int] = {}
        for a in tokenizer_json.get("added_tokens", []):
            self.id_token[a["id"]] = a["content"]
            if a.get("special"):
                self.special[a["content"]] = a["id"]
        self.pad_id = self.special["<|pad|>"]
        self.bos_id = self.special["<|bos|>"]
        self.eos_id = self.special["<|eos|>"]
        self.image_id = self.special["<|image|>"]
        self._cache: Dict[str, List[int]] = {}

    @staticmethod
    def from_file(path: str) -> "ByteBPE":
        with open(path, encoding="utf-8") as f:
            return ByteBPE(json.load(f))

    def _bpe(self, word: str) -> List[int]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        parts = [self.byte_char[b] for b in word.encode("utf-8")]
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            pair = (parts[at], parts[at + 1])
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text: str) -> List[int]:
        """Plain text (special-token texts are not recognised), as BackboneTokenizer.encode."""
        ids: List[int] = []
        for word in _PATTERN.findall(text):
            ids.extend(self._bpe(word))
        return ids

    def decode(self, ids: List[int], skip_special: bool = True) -> str:
        out = bytearray()
        for i in ids:
            t = self.id_token.get(i)
            if t is None:
                out += "\ufffd".encode()
            elif t in self.special:
                if not skip_special:
                    out += t.encode()
            else:
                out += bytes(self.char_byte[ch] for ch in t)
        return out.decode("utf-8", errors="replace")


SPECIAL_TOKENS = [("<|pad|>", 256), ("<|bos|>", 257), ("<|eos|>", 258), ("<|image|>", 259)]
DEFAULT_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "m")]


def learn_merges(texts: Iterable[str], n_merges: int) -> List[Tuple[str, str]]:
    """Byte-level BPE merges learnt from texts (GPT-2's procedure), words of letters only.

    Texts are split with the runtime's pre-tokenizer pattern; only words of letters (with their
    leading space, "Ġyellow") are merged, so numbers stay one token per digit and punctuation
    one token per mark: a length is said digit by digit ("1", "8", "Ġcm"), which keeps every
    number sayable however rare. Each round merges the most frequent adjacent pair (ties: the
    pair first in sorted order, so the result is deterministic) until n_merges or no pair
    occurs twice. DEFAULT_MERGES come first, so the default tokenizer's ids keep their meaning.
    """
    byte_char = bytes_to_unicode()
    counts: Dict[Tuple[str, ...], int] = {}
    for text in texts:
        for word in _PATTERN.findall(text):
            if not re.fullmatch(r" ?[^\W\d_]+", word):
                continue
            key = tuple(byte_char[b] for b in word.encode("utf-8"))
            counts[key] = counts.get(key, 0) + 1
    merges: List[Tuple[str, str]] = []

    def apply(pair: Tuple[str, str]) -> None:
        nonlocal counts
        out: Dict[Tuple[str, ...], int] = {}
        for w, c in counts.items():
            parts, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == pair:
                    parts.append(w[i] + w[i + 1])
                    i += 2
                else:
                    parts.append(w[i])
                    i += 1
            k = tuple(parts)
            out[k] = out.get(k, 0) + c
        counts = out

    for pair in DEFAULT_MERGES:
        merges.append(pair)
        apply(pair)
    while len(merges) < n_merges:
        pairs: Dict[Tuple[str, str], int] = {}
        for w, c in counts.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] = pairs.get((w[i], w[i + 1]), 0) + c
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        if pairs[best] < 2:
            break
        merges.append(best)
        apply(best)
    return merges


def tokenizer_json(merges: List[Tuple[str, str]]) -> dict:
    """A tokenizer.json in the runtime's layout (ids 0..255 bytes, 256..259 special, then one id per merge)."""
    vocab: Dict[str, int] = {ch: b for b, ch in enumerate(bytes_to_unicode())}
    added = []
    for content, i in SPECIAL_TOKENS:
        vocab[content] = i
        added.append({"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
    nxt = 256 + len(added)
    for l, r in merges:
        if l + r in vocab:
            raise ValueError(f"merge {l!r} + {r!r} makes a token that exists")
        vocab[l + r] = nxt
        nxt += 1
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{l} {r}" for l, r in merges]},
    }


def tokenizer_vocab_size(tok_json: dict) -> int:
    ids = list(tok_json["model"]["vocab"].values()) + [a["id"] for a in tok_json.get("added_tokens", [])]
    return max(ids) + 1


def default_tokenizer_json() -> dict:
    """src/backbone/byte_tokenizer.ts's defaultTokenizerJson, field for field (the parity test compares them)."""
    return tokenizer_json(list(DEFAULT_MERGES))


def main() -> None:
    """`learn TEXTS.jsonl N OUT.json`: merges from a JSON list of texts; `encode TOKENIZER.json TEXTS.json`: ids as JSON."""
    import sys
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "learn":
        with open(sys.argv[2], encoding="utf-8") as f:
            texts = json.load(f)
        with open(sys.argv[4], "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(learn_merges(texts, int(sys.argv[3]))), f, ensure_ascii=False)
    elif cmd == "encode":
        tok = ByteBPE.from_file(sys.argv[2])
        with open(sys.argv[3], encoding="utf-8") as f:
            texts = json.load(f)
        print(json.dumps([tok.encode(t) for t in texts]))
    else:
        raise SystemExit("usage: tokenizer.py learn TEXTS.json N OUT.json | encode TOKENIZER.json TEXTS.json")


if __name__ == "__main__":
    main()
