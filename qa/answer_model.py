"""The learned answer model: how well a sentence answers a question, and how sure that makes an answer.

A cross-encoder reads the question and one candidate sentence together (four transformer layers
initialised from the shipped all-MiniLM-L6-v2, fine-tuned by `python -m training.answer_scorer` on SQuAD v1
questions with near-miss negatives, some reworded with synonyms) and gives a logit. A logistic map fitted on
a calibration split (`python -m training.calibrate_answers`) combines that logit with a few checks the
question and sentence can be compared on (the question's names present in the sentence and its passage,
negation, meaning and word overlap) into each sentence's probability of answering (0 for a sentence without
the count, amount or office asked for: `cannot_answer`); a second map turns the best sentence's into
`Answer.confidence`: the probability that the answer is supported.

Runs in NumPy (see `index.bert_numpy`), so answering never imports torch. The word embeddings are the
base model's, read from the installed MiniLM package, so the shipped file holds only what training
changed.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bert_numpy import NumpyBert
from index.embed import default_model_path
from qa.errors import IndexCorruptError
from qa.plain_words import spelled_out
from qa.question import DATE, NEGATION, Question, model_reading
from qa.threads import WORKERS, worker_pool

MODEL_DIR = Path(__file__).resolve().parent / "models" / "answer_scorer"
WEIGHTS_FILE = "answer_scorer.safetensors"
CONFIG_FILE = "config.json"
CALIBRATION_FILE = "calibration.json"
QUESTION_TOKENS = 48  # longer questions are cut here; the sentence gets the rest of MAX_TOKENS
CONTEXT_TOKENS = 40  # of the sentence before, for a model that reads one (config.json "reads_context")
MAX_TOKENS = 160
# A question's candidate pairs are read on up to this many threads: the answer model is most of `ask`, its
# matrix products release the GIL, and each thread's BLAS stays single-threaded (`qa.threads`), so two cores
# read twice as fast and nothing spins when another process holds one of them.
READERS = WORKERS


FEATURES = ("logit", "similarity", "coverage", "names missing from sentence", "names missing from passage",
            "negation mismatch", "answer type missing", "passage reciprocal rank")


@dataclass(frozen=True)
class Calibration:
    """Two small logistic maps fitted on the calibration split (never trained on, never reported):
    a sentence's probability of answering = sigmoid(weights . features + bias), over FEATURES; the answer's
    confidence = sigmoid(scale * logit(best sentence's probability) + shift); answer when it is >= threshold.
    Without a fitted file the model's logit alone is used."""

    weights: tuple[float, ...] = (1.0,) + (0.0,) * (len(FEATURES) - 1)  # the logit alone
    bias: float = 0.0
    scale: float = 1.0
    shift: float = 0.0
    threshold: float = 0.5

    def sentence_probability(self, features: np.ndarray) -> np.ndarray:
        """Each row's probability of answering; 0 for a sentence that cannot answer (see `cannot_answer`)."""
        features = np.asarray(features, dtype=np.float64).reshape(-1, len(self.weights))
        fitted = _sigmoid(features @ np.asarray(self.weights) + self.bias)
        return np.where(cannot_answer(features), 0.0, fitted)

    def confidence(self, best_probability: float) -> float:
        p = min(max(float(best_probability), 1e-9), 1 - 1e-9)
        return float(_sigmoid(self.scale * np.log(p / (1 - p)) + self.shift))


def cannot_answer(features: np.ndarray) -> np.ndarray:
    """Rows (of FEATURES) whose sentence lacks the count, amount or office the question asks for: "How many
    London CCGs were approved?" is not answered by a sentence about London that gives no number, however well
    its words match. A rule, not a weight: a learned weight let word overlap outvote it (news near misses
    answered with such sentences), while a sentence that truly answers holds what was asked for. A missing
    date is only weighed (see `_answer_type_missing`)."""
    return np.asarray(features)[:, FEATURES.index("answer type missing")] >= 1.0


# Dates are written too many ways ("during the war", "in the Renaissance") for a missing one to rule a
# sentence out: on SQuAD's calibration split one answering sentence in eight had no date the check knew.
DATE_MISSING = 0.5


def _answer_type_missing(question: Question, sentence: str) -> float:
    """1.0 when `sentence` lacks the count, amount or office the question asks for, DATE_MISSING when it
    lacks the date, 0.0 otherwise."""
    if not question.lacks_answer_type(sentence):
        return 0.0
    return DATE_MISSING if question.asks_for == DATE else 1.0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def features(question: Question, logits: np.ndarray, sentences: Sequence[str], passages: Sequence[str],
             similarities: Sequence[float], coverages: Sequence[float], ranks: Sequence[int]) -> np.ndarray:
    """One row of FEATURES per candidate sentence (read in its passage; `ranks` are the passages' places in
    the retrieval ranking, 0 for a passage found otherwise, e.g. holding a matching commissioning fact)."""
    names = question.names
    rows = []
    for logit, sentence, passage, similarity, coverage, rank in zip(logits, sentences, passages, similarities,
                                                                    coverages, ranks):
        in_sentence, in_passage = sentence.lower(), passage.lower()
        rows.append((float(logit), float(similarity), float(coverage),
                     sum(n not in in_sentence for n in names) / len(names) if names else 0.0,
                     sum(n not in in_passage for n in names) / len(names) if names else 0.0,
                     float(question.negative and not NEGATION.search(sentence)),
                     _answer_type_missing(question, sentence),
                     1.0 / rank if rank > 0 else 0.0))
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def pair_ids(tokenizer, questions: Sequence[str], sentences: Sequence[str],
             contexts: Sequence[str] | None = None) -> tuple[list[list[int]], list[list[int]]]:
    """[CLS] question [SEP] sentence [SEP] token ids and their segment ids, as the model was trained on; with
    `contexts` (the sentence before each, "" for none), [CLS] question [SEP] context [SEP] sentence [SEP]: the
    context in the question's segment, its last CONTEXT_TOKENS kept, so the sentence stays the one scored."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    asked = [e.ids[:QUESTION_TOKENS] for e in tokenizer.encode_batch(list(questions), add_special_tokens=False)]
    read = [e.ids for e in tokenizer.encode_batch(list(sentences), add_special_tokens=False)]
    before = ([e.ids[-CONTEXT_TOKENS:] for e in tokenizer.encode_batch(list(contexts), add_special_tokens=False)]
              if contexts is not None else [[] for _ in read])
    ids, segments = [], []
    for question, sentence, context in zip(asked, read, before):
        head = [cls_id, *question, sep_id] + ([*context, sep_id] if context else [])
        sentence = sentence[:MAX_TOKENS - 1 - len(head)]
        ids.append([*head, *sentence, sep_id])
        segments.append([0] * len(head) + [1] * (len(sentence) + 1))
    return ids, segments


class AnswerModel:
    """Scores (question, sentence) pairs; thread-safe, loaded once per process (see `shared`)."""

    def __init__(self, folder: str | Path = MODEL_DIR, base_model: str | Path | None = None):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(folder)
        base = Path(base_model) if base_model else default_model_path()
        try:
            trained = {name: array.astype(np.float32) for name, array in load_file(str(folder / WEIGHTS_FILE)).items()}
            self.config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            base_embeddings = load_file(str(base / "model.safetensors"))["embeddings.word_embeddings.weight"]
        except (OSError, ValueError, KeyError, SafetensorError) as error:
            raise IndexCorruptError(f"the answer model in {folder} (or its base model in {base}) cannot be read: "
                                    f"{error}; reinstall the package") from error
        if base_embeddings.shape[1] != trained["head.weight"].shape[1]:
            raise IndexCorruptError(f"the answer model in {folder} does not fit the base model in {base}: "
                                    f"hidden size {trained['head.weight'].shape[1]} vs {base_embeddings.shape[1]}")
        self.head_weight = trained.pop("head.weight")[0]
        self.head_bias = float(trained.pop("head.bias")[0])
        trained["embeddings.word_embeddings.weight"] = base_embeddings.astype(np.float32)
        self._bert = NumpyBert(base, MAX_TOKENS, weights=trained, exact_gelu=False)  # scores only: tanh GELU
        self.calibration = _read_calibration(folder / CALIBRATION_FILE)
        self.reads_context = bool(self.config.get("reads_context", False))  # trained on sentences in context

    def logits(self, questions: Sequence[str], sentences: Sequence[str], contexts: Sequence[str] | None = None,
               batch: int = 32) -> np.ndarray:
        """One logit per (question, sentence) pair, each sentence read after its context when given: higher
        when the sentence answers the question."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        ids, segments = pair_ids(self._bert.tokenizer, questions, sentences, contexts)
        order = np.argsort([len(row) for row in ids])  # similar lengths together: less padding
        out = np.zeros(len(ids), dtype=np.float32)

        def read(rows: np.ndarray) -> None:
            pooled = self._bert.mean_pooled([ids[r] for r in rows], [segments[r] for r in rows])
            out[rows] = pooled @ self.head_weight + self.head_bias

        groups = [order[first:first + batch] for first in range(0, len(ids), batch)]
        if READERS > 1 and len(groups) == 1 and len(ids) >= 2 * READERS:
            # one question's candidates: dealt out in turn, so each reader gets a like share of the tokens
            groups = [order[reader::READERS] for reader in range(READERS)]
        if len(groups) == 1 or READERS == 1:
            for rows in groups:
                read(rows)
        else:
            list(worker_pool().map(read, groups))  # list(): raises a reader's error here
        return out

    def score(self, question: str | Question, sentences: Sequence[str], contexts: Sequence[str] = (),
              readings: Sequence[str] = ()) -> np.ndarray:
        """Logits for one question's candidate sentences, each read with the question as `readings` gives it
        for that sentence (by default as `qa.question.model_reading` reads it: NHS abbreviations spelled out),
        and after the sentence before it (`contexts`) when the model was trained to read one."""
        if not readings:
            asked = question.read_as if isinstance(question, Question) else model_reading(question)
            readings = [asked] * len(sentences)
        read_before = [spelled_out(c) for c in contexts] if self.reads_context and contexts else None
        return self.logits(list(readings), [spelled_out(s) for s in sentences], read_before)

    _shared: "AnswerModel | None" = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> "AnswerModel":
        """The shipped model, loaded on first use and kept for the process (it is read-only)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared


def _read_calibration(path: Path) -> Calibration:
    if not path.is_file():
        return Calibration()
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        if values["features"] != list(FEATURES):
            raise ValueError(f"it was fitted on features {values['features']}, this version uses {list(FEATURES)}")
        return Calibration(tuple(float(w) for w in values["weights"]), float(values["bias"]), float(values["scale"]),
                           float(values["shift"]), float(values["threshold"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(f"{path} cannot be read: {error}; reinstall the package") from error


def write_calibration(calibration: Calibration, details: dict, folder: str | Path = MODEL_DIR) -> Path:
    path = Path(folder) / CALIBRATION_FILE
    fitted = {"features": list(FEATURES), "weights": list(calibration.weights), "bias": calibration.bias,
              "scale": calibration.scale, "shift": calibration.shift, "threshold": calibration.threshold}
    path.write_text(json.dumps({**fitted, **details}, indent=2) + "\n", encoding="utf-8")
    return path
