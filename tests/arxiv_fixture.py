"""Kaggle-format snapshot lines for a few well-known arXiv papers (real ids, titles, dates)."""

import json
from pathlib import Path


def rec(arxiv_id, title, authors, created=None, update_date="2023-01-01", categories="cs.LG", parsed=True):
    out = {"id": arxiv_id, "submitter": None, "authors": ", ".join(" ".join(a) for a in authors),
           "title": title, "categories": categories, "abstract": "  An abstract.\n", "update_date": update_date,
           "versions": [{"version": "v1", "created": created}] if created else []}
    if parsed:
        out["authors_parsed"] = [[last, first, ""] for first, last in authors]
    return out


PAPERS = [
    rec("1706.03762", "Attention Is All You Need",
        [("Ashish", "Vaswani"), ("Noam", "Shazeer"), ("Niki", "Parmar"), ("Jakob", "Uszkoreit"),
         ("Llion", "Jones"), ("Aidan N.", "Gomez"), ("Lukasz", "Kaiser"), ("Illia", "Polosukhin")],
        "Mon, 12 Jun 2017 17:57:34 GMT", categories="cs.CL cs.LG"),
    rec("1810.04805", "BERT: Pre-training of Deep Bidirectional Transformers for Language\n  Understanding",
        [("Jacob", "Devlin"), ("Ming-Wei", "Chang"), ("Kenton", "Lee"), ("Kristina", "Toutanova")],
        "Thu, 11 Oct 2018 00:50:01 GMT", categories="cs.CL"),
    rec("1512.03385", "Deep Residual Learning for Image Recognition",
        [("Kaiming", "He"), ("Xiangyu", "Zhang"), ("Shaoqing", "Ren"), ("Jian", "Sun")],
        "Thu, 10 Dec 2015 19:51:55 GMT", categories="cs.CV"),
    rec("1412.6980", "Adam: A Method for Stochastic Optimization",
        [("Diederik P.", "Kingma"), ("Jimmy", "Ba")], "Mon, 22 Dec 2014 13:54:29 GMT"),
    rec("2106.09685", "LoRA: Low-Rank Adaptation of Large Language Models",
        [("Edward J.", "Hu"), ("Yelong", "Shen"), ("Phillip", "Wallis"), ("Zeyuan", "Allen-Zhu"),
         ("Yuanzhi", "Li"), ("Shean", "Wang"), ("Lu", "Wang"), ("Weizhu", "Chen")],
        "Thu, 17 Jun 2021 17:37:18 GMT", categories="cs.CL cs.AI cs.LG"),
    rec("1406.2661", "Generative Adversarial Networks",
        [("Ian J.", "Goodfellow"), ("Jean", "Pouget-Abadie"), ("Mehdi", "Mirza"), ("Bing", "Xu"),
         ("David", "Warde-Farley"), ("Sherjil", "Ozair"), ("Aaron", "Courville"), ("Yoshua", "Bengio")],
        "Tue, 10 Jun 2014 18:58:17 GMT", categories="stat.ML cs.LG"),
    rec("hep-th/9711200", "The Large N Limit of Superconformal Field Theories and Supergravity",
        [("Juan M.", "Maldacena")], "Thu, 27 Nov 1997 22:18:35 GMT", categories="hep-th"),
    # No versions: the first-version date falls back to update_date.
    rec("math/0211159", "The entropy formula for the Ricci flow and its geometric applications",
        [("Grisha", "Perelman")], None, update_date="2002-11-11", categories="math.DG", parsed=False),
]


def write_snapshot(path: Path, extra_lines=()) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for paper in PAPERS:
            fh.write(json.dumps(paper) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path
