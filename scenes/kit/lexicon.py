"""Pronunciation lexicon for the course narration.

``speakable(text)`` rewrites the *written* narration into text that a speech engine reads aloud
correctly: acronyms, math symbols, numbers in technical notation and the course vocabulary. Only
the speech engine sees the result; captions keep the written text.

How the spoken forms were chosen (checked against the phonemes Piper's espeak-ng front end
produces, see docs/narration.md):

* Acronyms spoken letter by letter become space-separated capital letters, ``GQA`` -> ``G Q eigh``.
  A lone capital ``A`` followed by a word is read as the article "uh", so the letter A is written
  ``eigh`` (read /eɪ/). Plurals take ``'s`` (``RNNs`` -> ``R N N's``): espeak drops a bare
  trailing ``s`` after an acronym.
* Acronyms said as words get the word: ``RoPE`` -> ``rope``, ``YaRN`` -> ``yarn``,
  ``arXiv`` -> ``archive``, ``softmax`` -> ``soft max`` (read "SoftX" by ASR otherwise).
* People's names the engine says wrongly are respelled (``_RESPELLED``: ``Luong`` -> ``Looong``,
  ``Schmidhuber`` -> ``Schmidhoober``), as are ``tanh`` (``tan h``), ``NaN`` (``nan``) and
  ``feed-forward`` (``feed forward``; the hyphen swallowed the *d*). Each was chosen by its
  phonemes and checked with the listening check, scripts/check_narration.py.
* Numbers the engine would misread are written out in words: decimals digit by digit
  (``0.25`` -> ``zero point two five``), suffixed counts (``128K`` -> ``one hundred twenty eight
  thousand``), scientific notation (``1e-12`` -> ``ten to the minus twelve``), percentages and
  years (``1997`` -> ``nineteen ninety seven``; espeak says "nineteen hundred ninety seven").
  Plain integers such as ``4096`` are left to the engine, which reads them well.
* ``×`` between two operands is "by" (matrix shapes: ``n × d``); after a number with nothing
  following it is "times" (``8×``, ``2× faster``). Write "times" in the narration when a product
  is meant.

The rules are ordered; each is a compiled regular expression with a replacement. They are
word-boundary aware (a rule for ``KV`` does not fire inside ``QKV``) and case-sensitive unless
marked otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["LEXICON_VERSION", "digits_words", "number_words", "speakable", "spell", "year_words"]

# Bump when a rule changes in a way that should be visible in metadata (the narration cache is
# keyed by the spoken text itself, so changed sentences are re-synthesised regardless).
LEXICON_VERSION = 1

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def number_words(n: int) -> str:
    """An integer in US English words, without "and": 128 -> "one hundred twenty eight"."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return number_words(high) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def digits_words(digits: str) -> str:
    """Digit by digit: "25" -> "two five"."""
    return " ".join(_ONES[int(d)] for d in digits)


def year_words(year: int) -> str:
    """A year as it is said: 1997 -> "nineteen ninety seven", 2017 -> "twenty seventeen",
    2005 -> "two thousand five", 1905 -> "nineteen oh five"."""
    if 2000 <= year <= 2009:
        return number_words(year)
    century, rest = divmod(year, 100)
    if rest == 0:
        return number_words(century) + " hundred"
    if rest < 10:
        return number_words(century) + " oh " + _ONES[rest]
    return number_words(century) + " " + number_words(rest)


def _decimal_words(text: str) -> str:
    """ "12.5" -> "twelve point five", "3" -> "three"."""
    whole, _, frac = text.partition(".")
    words = number_words(int(whole))
    if frac:
        words += " point " + digits_words(frac)
    return words


_LETTER_NAMES = {"A": "eigh"}


def spell(acronym: str, plural: bool = False) -> str:
    """Letter by letter: "GQA" -> "G Q eigh"; plural=True: "RNN" -> "R N N's"."""
    letters = [_LETTER_NAMES.get(c, c) for c in acronym.upper() if c.isalnum()]
    out = " ".join(letters)
    return out + "'s" if plural else out


# --------------------------------------------------------------------------------------------
# Rules

_B = r"(?<![A-Za-z0-9_])"  # left word boundary (ASCII word characters)
_E = r"(?![A-Za-z0-9_])"  # right word boundary
_MINUS = "-−–"  # hyphen, U+2212 minus sign, en dash
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]
_RULES: list[Rule] = []


def _rule(pattern: str, repl: str | Callable[[re.Match[str]], str], flags: int = 0) -> None:
    _RULES.append((re.compile(pattern, flags), repl))


# Acronyms spelled letter by letter (case-sensitive, optional plural "s").
_SPELLED = [
    "GQA",
    "MQA",
    "MHA",
    "MLA",
    "KV",
    "QKV",
    "LSTM",
    "RNN",
    "CNN",
    "SSM",
    "GPU",
    "CPU",
    "TPU",
    "HBM",
    "LLM",
    "FFN",
    "MLP",
    "GPT",
    "SDPA",
    "NLP",
    "MFU",
    "API",
    "PE",
    "IO",
    "PI",  # position interpolation (the Greek letter is "π")
    "NTK",
    "MLX",
]
# Acronyms with a word or a custom spoken form (case-sensitive unless the key is lower-case).
_WORDS = {
    "RoPE": "rope",
    "YaRN": "yarn",
    "ALiBi": "alibi",
    "NoPE": "nope",
    "LongRoPE": "long rope",
    "prefill": "pre-fill",  # espeak stressed it "prif-ILL", heard as "profil"
    "Prefill": "Pre-fill",  # espeak read it as one word, heard as "Monroe P E"
    "queries": "queeries",  # espeak says "KWEER-iz", heard as "queers" or "squares" (Lecture 5: 7 of 7)
    "Queries": "Queeries",
    "split-K": "split kay",  # the hyphen made "splitkay", heard as "split gate"
    "Split-K": "Split kay",
    "eval mode": "ee-val mode",  # espeak says "i-VAL", heard as "a valve"
    "MoE": spell("MOE"),
    "MoEs": spell("MOE", plural=True),
    "MoA": spell("MOA"),
    "SRAM": "S RAM",
    "DRAM": "D RAM",
    "LLaMA": "Llama",
    "LLaMa": "Llama",
    "LLAMA": "Llama",
    "MAMBA": "Mamba",
    "BERT": "Bert",
    "CUDA": "Cuda",
    "SwiGLU": "swig lu",
    "GeLU": "gelu",
    "GELU": "gelu",
    "ReLU": "relu",
    "LayerNorm": "layer norm",
    "RMSNorm": "R M S norm",
    "SOTA": "state of the art",
    "BLEU": "blue",  # the translation score, said as the colour
    "PyTorch": "pie torch",  # heard as "high torches"
    "attn_ref": "attention ref",  # the library's name; "attn" was heard as "at and" or "aton"
    "flash-attn": "flash attention",  # the package Dao-AILab/flash-attention
    "all-reduce": "all reduce",  # the hyphen made it "r duce"
    "vLLM": "v L L M",
    "RoFormer": "Ro former",
    "GPT-NeoX": "G P T Neo X",
    "torchtitan": "torch titan",
    "tanh": "tan h",  # espeak says "tan"
    "NaN": "nan",  # espeak says "nah N", heard as "not N"
}
# People's names and words the en-US front end says wrongly, respelled so it says them as their
# owners do; each was checked with Piper's phonemes and the listening check (docs/narration.md).
_RESPELLED = {
    "Luong": "Looong",  # loo-ong; espeak says "lyoo-ahng", heard as "the yuan"
    "Sutskever": "Soots-kever",  # soots-KEV-er, not "SUT-skever"
    "Hochreiter": "Hokeryter",  # hoke-rye-ter, not "hock-ray-ter"
    "Schmidhuber": "Schmidhoober",  # shmid-hoo-ber, not "shmid-hyoo-ber"
    "Vaswani": "Vahs-wahnee",  # vahs-WAH-nee, not "thus wanting"
    "Vinyals": "Vin-yals",  # vin-YALS, not "venials"
    "Bengio": "Benjio",  # ben-jee-oh; espeak's hard g is heard as "Bengal"
    "Olsson": "Olson",  # heard as "Austin"
    "Voita": "Voyta",  # VOY-ta; heard as "boya"
    "Michel": "Meeshell",  # mee-SHELL (Paul Michel); heard as "amitual"
    "Haviv": "Hahveev",  # hah-VEEV (Adi Haviv); espeak says "HAV-ive", heard as "have I have been"
    "Kazemnejad": "Kahzem-nejahd",  # kah-zem-ne-JAHD; espeak says "KAYZ-mni-jad", heard as "encased minjad"
}
_FLOPS_PREFIX = {"": "", "K": "kilo", "M": "mega", "G": "giga", "T": "tera", "P": "peta", "E": "exa"}
_COUNT_SUFFIX = {"k": "thousand", "K": "thousand", "M": "million", "B": "billion", "T": "trillion"}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta",
    "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega",
    "Σ": "sigma", "Δ": "delta",
}  # fmt: skip
# Count nouns after which a four-digit number is a quantity, not a year ("2048 tokens").
_COUNT_NOUNS = (
    r"tokens?|parameters?|params?|dimensions?|dims?|heads?|layers?|steps?|experts?|words?|entries|"
    r"rows?|columns?|positions?|samples?|bytes?|[KMG]i?B|elements?|GPUs?|blocks?|times|by|×"
)

# Written abbreviations.
_rule(r"(?<![\w.])e\.g\.(?=[\s,;:]|$)", "for example")
_rule(r"(?<![\w.])i\.e\.(?=[\s,;:]|$)", "that is")
_rule(r"(?<![\w.])etc\.", "et cetera")
_rule(r"(?<![\w.])vs\.?(?=\s)", "versus")

# arXiv identifiers: "arXiv:1706.03762" -> "archive one seven zero six dot zero three seven six two".
_rule(
    r"(?i)" + _B + r"arxiv:?\s?(\d{4})\.(\d{4,5})(?:v(\d+))?" + _E,
    lambda m: "archive " + digits_words(m[1]) + " dot " + digits_words(m[2])
    + (" version " + number_words(int(m[3])) if m[3] else ""),
)  # fmt: skip
_rule(r"(?i)" + _B + r"arxiv" + _E, "archive")

# Superscript digits (10⁻¹², n²) -> caret notation handled below.
_rule(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+", lambda m: "^" + m[0].translate(_SUPERSCRIPTS) + " ")


# Transpose: QKᵀ, QK^T, K^\top, Q K^{T} -> "Q K transpose".
def _transpose(m: re.Match[str]) -> str:
    name, sub = m[1], m[2]
    spoken = spell(name) if name.isupper() else " ".join(name)
    return spoken + (" " + sub if sub else "") + " transpose"


_rule(
    _B + r"([A-Za-z]{1,3})(?:_\{?([A-Za-z0-9]+)\}?)?\s?(?:ᵀ|⊤|\^\{?(?:T|\\top|⊤)\}?)" + _E,
    _transpose,
)


# Square roots: √d_k, √(d_k), sqrt(d_k), √d, √2.
def _sqrt(m: re.Match[str]) -> str:
    arg = (m[1] or m[2] or m[3]).replace("_", " ").replace("{", "").replace("}", "")
    return " square root of " + arg


_rule(
    r"(?:√|\\sqrt|" + _B + r"sqrt)\s?(?:\(([^()]+)\)|\{([^{}]+)\}|([A-Za-z0-9]+(?:_\{?[A-Za-z0-9]+\}?)?))",
    _sqrt,
)
_rule(r"/\s*(?=square root)", " over ")


# Scientific notation: 1e-12 -> "ten to the minus twelve", 3e-4 -> "three times ten to ...".
def _sci(m: re.Match[str]) -> str:
    mantissa, sign, exponent = m[1], m[2], int(m[3])
    power = "ten to the " + ("minus " if sign and sign in _MINUS else "power of ") + number_words(exponent)
    if mantissa in ("1", "1.0"):
        return power
    return _decimal_words(mantissa) + " times " + power


_rule(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([" + _MINUS + r"+]?)(\d+)" + _E, _sci)
_rule(
    r"(?<![\w.])10\^\{?([" + _MINUS + r"]?)(\d+)\}?",
    lambda m: "ten to the " + ("minus " if m[1] else "power of ") + number_words(int(m[2])),
)

# Powers: n^2 -> "n squared", n^3 -> "n cubed", 2^k -> "two to the power of k".
_rule(r"([A-Za-z0-9)])\s?\^\{?2\}?(?![0-9])", r"\1 squared")
_rule(r"([A-Za-z0-9)])\s?\^\{?3\}?(?![0-9])", r"\1 cubed")
_rule(r"([A-Za-z0-9)])\s?\^\{?([A-Za-z0-9]+)\}?", r"\1 to the power of \2")

# Big-O: O(n²) -> "O of n squared".
_rule(_B + r"O\(([^()]*)\)", r"O of \1")

# softmax(QKᵀ ...) -> "soft max of ...", any case; plural softmaxes.
_rule(r"(?i)" + _B + r"(soft)max(es)?" + r"\s?\(", lambda m: m[1] + " max" + (m[2] or "") + " of (")
_rule(r"(?i)" + _B + r"(soft)max(es)?" + _E, lambda m: m[1] + " max" + (m[2] or ""))

# Throughput: TFLOP/s, TFLOPS, TFLOPs, FLOPs, FLOP/s, GFLOPS.
_rule(
    _B + r"([KMGTPE]?)FLOP(?:/s|s|S)?" + _E,
    lambda m: _FLOPS_PREFIX[m[1]] + ("flops" if m[0] != m[1] + "FLOP" else "flop"),
)

# A model's size after its version, joined by a hyphen: "Llama-2-7B" -> "Llama 2, 7B" (then "seven billion");
# the hyphen made the engine run the two numbers together ("Llama 27 B").
_rule(r"(?<=[A-Za-z]-\d)-(?=\d+(?:\.\d+)?[BMT]" + _E + ")", ", ")
_rule(r"(?<=[A-Za-z])-(?=\d+, \d)", " ")

# Counts with a multiplier suffix: 4k, 128K, 1.5B, 7B, 1M.
_rule(
    r"(?<![\w.])(\d+(?:\.\d+)?)([kKMBT])" + _E,
    lambda m: _decimal_words(m[1]) + " " + _COUNT_SUFFIX[m[2]],
)

# Percentages.
_rule(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%", lambda m: _decimal_words(m[1]) + " percent")
_rule(r"%", " percent")

# Decimals (not version strings like 0.22.0): 0.25 -> "zero point two five".
_rule(r"(?<![\w.])(\d+)\.(\d+)(?![\w]|\.\d)", lambda m: _decimal_words(m[0]))

# Number ranges: 4-8 heads, 2017–2023 -> "to" (but "3 - 1" is a subtraction, handled below).
_rule(r"(?<=\d)(?:–|\s–\s|-)(?=\d)", " to ")

# Decades and years: 1990s -> "nineteen nineties"; 1997 -> "nineteen ninety seven".
_DECADE_PLURAL = {"ten": "tens", "twenty": "twenties", "thirty": "thirties", "forty": "forties",
                  "fifty": "fifties", "sixty": "sixties", "seventy": "seventies", "eighty": "eighties",
                  "ninety": "nineties", "hundred": "hundreds"}  # fmt: skip


def _decade(m: re.Match[str]) -> str:
    words = year_words(int(m[1])).split()
    if words[-1] == "thousand":  # 2000s
        return " ".join(words[:-1]) + " thousands"
    words[-1] = _DECADE_PLURAL.get(words[-1], words[-1] + "s")
    return " ".join(words)


_rule(r"(?<![\w.,])((?:19|20)\d0)s" + _E, _decade)
_rule(
    r"(?<![\w.,$])(19\d\d|20[0-3]\d)(?![\w.,]\d|\d)(?!\s*(?:" + _COUNT_NOUNS + r")" + _E + ")",
    lambda m: year_words(int(m[1])),
)


# Multiplication sign: trailing "times" (8×, 2× faster) or "by" between operands (n × d).
_rule(r"(?<=\d)\s?×(?=\s*(?:$|[^\w\s(]|[A-Za-z]{2,}))", " times")
_rule(r"\s?×\s?", " by ")

# Negative infinity and other symbols.
_rule(r"[" + _MINUS + r"]\s?∞", " minus infinity ")
_rule(r"\+\s?∞", " plus infinity ")
_rule(r"∞", " infinity ")
_rule(r"(?:^|(?<=[\s(=,]))-(?=\d)", "minus ")
_rule(r"(?<=[\w)])\s-\s(?=[\d(])", " minus ")
_rule(r"−", " minus ")
_rule(r"±", " plus or minus ")
_rule(r"≈", " approximately ")
_rule(r"≠", " not equal to ")
_rule(r"≤", " less than or equal to ")
_rule(r"≥", " greater than or equal to ")
_rule(r"⇒", " implies ")
_rule(r"→|⟶|->", " to ")
_rule(r"∈", " in ")
_rule(r"∑", " sum ")
_rule(r"⊙", " element-wise times ")
_rule(r"·|⋅", " dot ")
_rule(r"(?<=\s)=(?=\s)|(?<=\w)=(?=\w)", " equals ")
_rule(r"(?<=\w)\s?&\s?(?=\w)", " and ")
_rule("[" + "".join(_GREEK) + "]", lambda m: " " + _GREEK[m[0]] + " ")

# A product written by juxtaposition after a bracket: "(QKᵀ/√d)V" -> "... times V".
_rule(r"\)(?=[A-Z]" + _E + ")", ") times ")

# Subscripts: d_k -> "d k", W_Q -> "W Q", d_{model} -> "d model".
_rule(_B + r"([A-Za-z])_\{?([A-Za-z0-9]+)\}?", r"\1 \2")

# Course words (case-sensitive: a capitalised form is its own entry).
for _written, _spoken in _WORDS.items():
    _rule(_B + re.escape(_written) + _E, _spoken)
_rule(r"(?i)" + _B + r"llama" + r"(?=[\s\d.,;:!?'\"-]|$)", "Llama")
for _written, _spoken in _RESPELLED.items():
    _rule(_B + _written + _E, _spoken)
# Quoc Le, in a list of authors; espeak reads "Le" as the French article "luh", heard as "the".
_rule(r"(?:(?<=, )|(?<=\band ))Le" + _E, "Lay")
# A hyphen joins the two words into one with a swallowed "d": heard "fee for a".
_rule(r"(?i)" + _B + r"(feed)-(forward)" + _E, r"\1 \2")

# Q/K/V -> "Q, K, V".
_rule(_B + r"([A-Z])/(?=[A-Z]" + _E + ")", r"\1, ")

# Spelled acronyms with an optional plural, also before a hyphen ("KV-cache" -> "K V cache").
_rule(
    _B + "(" + "|".join(sorted(_SPELLED, key=len, reverse=True)) + r")(s?)" + _E,
    lambda m: spell(m[1], plural=bool(m[2])),
)
_rule(r"(?<=[A-Z])-(?=[a-z])|(?<=[A-Za-z])-(?=\d)", " ")  # "K V-cache" -> "K V cache", GPT-4

# Tidy: no space before punctuation, single spaces.
_rule(r"\s+([,.;:!?])", r"\1")
_rule(r"\s{2,}", " ")


def speakable(text: str) -> str:
    """The spoken form of a written narration text (see the module docstring)."""
    out = text
    for pattern, repl in _RULES:
        out = pattern.sub(repl, out)
    return out.strip()
