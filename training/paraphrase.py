"""Questions reworded with WordNet synonyms, so the answer model learns meaning as well as shared words.

SQuAD's writers mostly reuse the paragraph's words, and a model trained on them alone scores a question
that says "hire" where the sentence says "employ" as no answer. Training pairs whose question swaps the
words it shares with the sentence for a synonym (under both answering and non-answering sentences, so
rewording is no clue to the label) teach it otherwise.

Synonyms come from WordNet 3.0 (Princeton University, WordNet licence), read from Debian's `wordnet-base`
files (`apt-get install wordnet-base`: /usr/share/wordnet). Only a word's most common sense is used, so
"bank" is not reworded as "slope". Training only: nothing here ships or runs when answering.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Words a question's meaning hangs on in form, not in sense: never reworded.
_KEEP = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much", "does", "did",
         "do", "is", "are", "was", "were", "be", "been", "have", "has", "had", "the", "and", "not", "never", "no",
         "first", "last", "year", "years", "name", "called", "type", "kind", "part", "number", "one", "two"}


def load_synonyms(folder: Path = WORDNET) -> dict[str, list[str]]:
    """Lower-case lemma -> the other lemmas of its most common sense (one- or two-word, lower case)."""
    if not (folder / "index.noun").is_file():
        raise FileNotFoundError(f"WordNet is not in {folder}: install it with `apt-get install wordnet-base`")
    best: dict[str, tuple[int, list[str]]] = {}  # lemma -> (tagged senses of its part of speech, synonyms)
    for pos in PARTS_OF_SPEECH:
        senses = {}
        for line in (folder / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue  # the licence header
            fields = line.split()
            count = int(fields[3], 16)
            senses[fields[0]] = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
        for line in (folder / f"index.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma, pointers = fields[0], int(fields[3])
            tagged = int(fields[5 + pointers])  # how often this part of speech was seen in tagged text
            first_sense = fields[6 + pointers]  # offsets follow the pointer symbols, sense and tagsense counts
            if "_" in lemma or (lemma in best and best[lemma][0] >= tagged):
                continue
            # Capitalised lemmas are proper names ("Begin" the prime minister): never a synonym.
            words = [w for w in senses.get(first_sense, []) if w.lower() != lemma and _usable(w)]
            best[lemma] = (tagged, words)
    return {lemma: words for lemma, (_, words) in best.items() if words}


def _usable(word: str) -> bool:
    return word.count(" ") <= 1 and all(part.isalpha() and part.islower() for part in word.split())


def reword(question: str, sentence: str, synonyms: dict[str, list[str]], rng: random.Random,
           share: float = 0.7) -> str | None:
    """The question with each lower-case word it shares with `sentence` swapped, with probability `share`,
    for a synonym the sentence lacks; None when no word could be swapped. Names (capitalised words after
    the first), numbers and question words stay."""
    in_sentence = {w.lower() for w in _WORD.findall(sentence)}
    changed = False

    def swap(match: re.Match) -> str:
        nonlocal changed
        word = match.group(0)
        lower = word.lower()
        if (match.start() > 0 and word[0].isupper()) or lower in _KEEP or len(lower) < 4 \
                or lower not in in_sentence or rng.random() > share:
            return word
        stem, suffix = (lower, "") if lower in synonyms else (lower[:-1], "s") if lower.endswith("s") else (lower, "")
        choices = [w for w in synonyms.get(stem, []) if w not in in_sentence]
        if not choices:
            return word
        changed = True
        new = rng.choice(choices) + suffix
        return new.capitalize() if word[0].isupper() else new

    reworded = _WORD.sub(swap, question)
    return reworded if changed else None
