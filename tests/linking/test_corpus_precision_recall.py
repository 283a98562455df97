"""Precision and recall of extraction over the hand-labelled corpus (corpus.py + corpus_holdout.py)."""

from leads.linking import extract_entities

from .corpus import CORPUS, KINDS
from .corpus_holdout import HOLDOUT

EXACT_KINDS = ("phone", "id_number", "uscc", "plate", "bank_card")


def _measure(tips):
    counts = {kind: {"tp": 0, "fp": 0, "fn": 0} for kind in KINDS}
    misses = []
    for number, tip in enumerate(tips):
        found: dict[str, set[str]] = {}
        for entity in extract_entities(tip.text, accused=tip.accused):
            found.setdefault(entity.kind, set()).add(entity.value)
        for kind in KINDS:
            expected, got = getattr(tip, kind), found.get(kind, set())
            counts[kind]["tp"] += len(expected & got)
            counts[kind]["fp"] += len(got - expected)
            counts[kind]["fn"] += len(expected - got)
            if got != expected:
                misses.append((number, kind, sorted(got - expected), sorted(expected - got)))
    scores = {}
    for kind, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        scores[kind] = (precision, recall, c)
    return scores, misses


def _print(title, scores):
    print(f"\n{title}")
    for kind, (precision, recall, c) in scores.items():
        print(f"  {kind:10} P={precision:.3f} R={recall:.3f}  tp={c['tp']} fp={c['fp']} fn={c['fn']}")


def test_corpus_is_big_enough_and_labelled():
    tips = CORPUS + HOLDOUT
    assert len(tips) >= 30
    for kind in KINDS:
        assert sum(len(getattr(t, kind)) for t in tips) >= 3, kind


def test_extraction_precision_and_recall_on_labelled_corpus():
    scores, misses = _measure(CORPUS + HOLDOUT)
    _print(f"Extraction over {len(CORPUS + HOLDOUT)} labelled tips", scores)
    for miss in misses:
        print("  miss:", miss)
    for kind in EXACT_KINDS:
        precision, recall, _ = scores[kind]
        assert recall == 1.0, (kind, misses)
        assert precision == 1.0, (kind, misses)
    for kind in ("company", "person"):
        precision, recall, _ = scores[kind]
        assert precision >= 0.9, (kind, misses)
        assert recall >= 0.8, (kind, misses)


def test_holdout_batch_scores_are_reported_separately():
    scores, _ = _measure(HOLDOUT)
    _print(f"Held-out batch ({len(HOLDOUT)} tips)", scores)
    assert scores["phone"][1] == 1.0
