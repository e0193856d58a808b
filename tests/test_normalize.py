import pytest

from autoscholar.arxiv.normalize import normalize_title, surname, years_in
from autoscholar.text import fold_accents


@pytest.mark.parametrize("a, b", [
    ("BERT: Pre-training of Deep Bidirectional Transformers", "{BERT}: Pre- training of deep bidirectional transformers"),
    ("Pre-training", "pretraining"),
    ("Pre\u2010training", "Pre-\ntraining"),
    ("Efﬁcient ﬂows", "Efficient flows"),  # ligatures
    ("Schölkopf", r"Sch{\"o}lkopf"),
    ("Schölkopf", r'Sch\"{o}lkopf'),
    ("Étude", r"\'Etude"),
    ("Çetin", r"\c{C}etin"),
    ("Gödel", "Go\u0308del"),  # combining diaeresis
    ("Deep nets", r"\emph{Deep} nets"),
    ("Deep nets", r"\textbf{Deep} \textit{nets}"),
    ("ℓ1 regularization", r"$\ell_1$ regularization"),
    ("α-divergence", r"$\alpha$-divergence"),
    ("Attention is all you need", "ATTENTION IS ALL YOU NEED."),
    ("Q&A over tables", "Q\\&A over tables"),
    ("Q&A over tables", "Q&amp;A over tables"),
    ("Ｆｕｌｌ width", "Full width"),  # NFKC
    ("Straße", "Strasse"),
    ("What's new?", "What’s new"),
    # Macros whose name starts with a letter accent (\b, \d, \r, \v, \k, \u) are not accents.
    ("β-VAE", r"$\beta$-VAE"),
    ("δ-net", r"$\delta$-net"),
    ("ρ-sampling", r"\rho-sampling"),
    ("ε-greedy", r"$\varepsilon$-greedy"),
    ("κ-means", r"$\kappa$-means"),
    ("Deep learning", r"{\bf Deep} learning"),
    ("Deep learning", r"{\rm Deep} learning"),
    ("Šekrst", r"\v{S}ekrst"),
    ("Şahin", r"\c Sahin"),
    ("Martínez", r"Mart{\'\i}nez"),
    ("cooperative", "co\u00adoperative"),  # soft hyphen left by a line break
])
def test_spellings_meet(a, b):
    assert normalize_title(a) == normalize_title(b)


def test_normalised_form():
    assert normalize_title("  Hello,   World! (v2) ") == "hello world v2"
    assert normalize_title("state-of-the-art") == "stateoftheart"
    assert normalize_title("A — B") == "a b"  # a dash between words is a space
    assert normalize_title("") == ""


def test_fold_removes_accents_and_case():
    assert fold_accents("Núñez") == "nunez"


@pytest.mark.parametrize("name, expected", [
    ("J. Smith", "smith"), ("Smith, J.", "smith"), ("Martin Luther King Jr.", "king"),
    (r"C. Bal\'azs", "balazs"), ("Zepeda-Núñez", "zepedanunez"),
])
def test_surname(name, expected):
    assert surname(name) == expected


def test_years():
    assert years_in("Phys. Rev. 76, 013009 (2007), pp. 1-22; 1999") == [2007, 1999]
    assert years_in("page 12345") == []
