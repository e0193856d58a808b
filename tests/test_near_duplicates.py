import random

from autoscholar.near_duplicates import near_duplicate_queries

ITEMS = [
    ("p1:0:1", "p1", "Which papers propose dense passage retrieval for open-domain question answering?"),
    ("p1:0:0", "p1", "Which papers propose dense passage retrieval for open domain question answering"),
    ("p1:1:0", "p1", "Which works study parameter-efficient fine-tuning of large language models?"),
    ("p2:0:0", "p2", "Which papers propose dense passage retrieval for open-domain question answering?"),
    ("p3:0:0", "p3", "What methods compress neural networks by pruning weights during training?"),
    ("p4:0:0", "p4", "What methods compress neural networks by pruning weights after training?"),
    ("p5:0:0", "p5", "Which studies evaluate the faithfulness of abstractive summarization models?"),
]


def test_within_and_across_papers():
    out = near_duplicate_queries(ITEMS)
    # p1:0:1 is a near copy within p1; p2's question is the same text in another paper.
    assert out == {"p1:0:1": "p1:0:0", "p2:0:0": "p1:0:0"}


def test_independent_of_input_order():
    expected = near_duplicate_queries(ITEMS)
    for seed in range(5):
        items = ITEMS[:]
        random.Random(seed).shuffle(items)
        assert near_duplicate_queries(items) == expected


def test_thresholds():
    # One word changed in a 12-word question: Jaccard of word 3-shingles is 0.6.
    assert "p4:0:0" not in near_duplicate_queries(ITEMS)
    assert near_duplicate_queries(ITEMS, across_jaccard=0.5)["p4:0:0"] == "p3:0:0"
    # At 100 the two p1 spellings ("open-domain" / "open domain") stay apart; p2 copies p1:0:1.
    assert near_duplicate_queries(ITEMS, within_paper_threshold=100.0) == {"p2:0:0": "p1:0:1"}


def test_groups_are_transitive_and_keep_the_smallest_id():
    items = [("q3", "a", "alpha beta gamma delta epsilon zeta eta theta iota kappa"),
             ("q2", "b", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"),
             ("q1", "c", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")]
    assert near_duplicate_queries(items, across_jaccard=0.8) == {"q2": "q1", "q3": "q1"}


def test_empty_and_unique():
    assert near_duplicate_queries([]) == {}
    assert near_duplicate_queries([("q1", "p", "")]) == {}
