"""Synthetic tasks with seeded generators. Every sample is drawn from an explicit ``torch.Generator``.

A task's ``sample(batch_size, generator)`` returns a :class:`Batch`: ``tokens`` (B, L) int64, ``targets``
(B, L) int64 (the token the model should predict *at* each position, ``IGNORE`` = -100 where nothing is
scored), ``weights`` (B, L) float32 loss weights (0 where ignored) and ``info`` (per-sample tensors the
scorers need: where the copy starts, where the needle sits, …).

* :class:`RepeatedSequences` — random tokens with a segment repeated later (induction heads, Olsson et al.
  2022, arXiv:2209.11895). Period *and* offset vary per sample, so a head that matches content is not
  confused with a head that attends at a fixed distance.
* :class:`PreviousTokenCopy` — predict the previous token (the simplest positional head).
* :class:`AssociativeRecall` — multi-query associative recall, MQAR (Arora et al. 2023, "Zoology",
  arXiv:2312.04927): ``k1 v1 k2 v2 … kN vN q1 q2 … qM``, each query is one of the keys and the target
  at a query is its value.
* :class:`NeedleHaystack` — a needle ``MARK key value`` placed at a chosen depth in filler text, with
  distractor needles (other keys), then ``QUERY key``; the model must answer ``value`` at the last
  position (Kamradt's needle test; RULER's multi-key NIAH, Hsieh et al. 2024, arXiv:2404.06654).
  The filler is text that repeats itself (random phrases from a small per-sample pool), so the filler
  loss by position shows in-context copying, and the same induction mechanism answers the question;
  a fixed bigram language is available too.
* :class:`SelectiveCopying` — K content tokens at random positions among noise tokens, then K markers at
  which the content is reproduced in order (Mamba's selective copying, Gu & Dao 2023, arXiv:2312.00752
  §3.1, Fig. 2); ``spacing="even"`` puts them at fixed, evenly spaced positions (the plain copying task,
  Arjovsky et al. 2016, arXiv:1511.06464, with a fixed lag between each input and its output).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch

from .._checks import check_positive_int

__all__ = ["IGNORE", "AssociativeRecall", "Batch", "NeedleHaystack", "PairRecall", "PreviousTokenCopy",
           "RepeatedSequences", "SelectiveCopying", "make_task"]

IGNORE = -100


class Batch(NamedTuple):
    tokens: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    info: dict


def _check_generator(generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")


def _randint(n: int, g: torch.Generator, size=()) -> torch.Tensor:
    return torch.randint(0, n, size, generator=g)


class _Task:
    name = "task"

    def to_dict(self) -> dict:
        return {"task": self.name, **asdict(self)}


@dataclass(frozen=True)
class RepeatedSequences(_Task):
    """Random tokens ``prefix (a) · segment (P) · segment · segment …`` cut at ``length``.

    Per sample P is uniform in [min_period, max_period] and the prefix length a uniform in
    [0, max_prefix]; the prefix and segment tokens are distinct (drawn without replacement), so a token
    of the second copy has exactly one earlier occurrence, at distance P. The segment repeats until the
    sequence ends (at least two full copies: ``max_prefix + 2·max_period <= length``). Varying P and a
    per sample means a fixed positional offset cannot pass for content matching.
    Targets: the next token at every position (plain language modelling); everything after the first
    token of the second copy is predictable. info: ``period`` (B,), ``start`` (B,) = a.
    """

    vocab_size: int = 64
    length: int = 32
    min_period: int = 4
    max_period: int = 12
    max_prefix: int = 8
    name = "repeated_sequences"

    def __post_init__(self):
        for f in ("vocab_size", "length", "min_period", "max_period"):
            check_positive_int(f, getattr(self, f))
        if self.max_prefix < 0 or self.min_period > self.max_period:
            raise ValueError(f"need max_prefix >= 0 and min_period <= max_period, got max_prefix="
                             f"{self.max_prefix}, min_period={self.min_period}, max_period={self.max_period}")
        if self.max_prefix + 2 * self.max_period > self.length:
            raise ValueError(f"need max_prefix + 2*max_period <= length, got {self.max_prefix} + "
                             f"2*{self.max_period} > {self.length}")
        if self.max_prefix + self.max_period > self.vocab_size:
            raise ValueError(f"vocab_size must be >= max_prefix + max_period = "
                             f"{self.max_prefix + self.max_period} (tokens are distinct), got {self.vocab_size}")

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        _check_generator(generator)
        B, L = batch_size, self.length
        period = torch.randint(self.min_period, self.max_period + 1, (B,), generator=generator)
        start = torch.randint(0, self.max_prefix + 1, (B,), generator=generator)
        perm = torch.rand(B, self.vocab_size, generator=generator).argsort(dim=1)            # distinct tokens
        pos = torch.arange(L)[None, :]
        p, a = period[:, None], start[:, None]
        src = torch.where(pos < a, pos, a + (pos - a) % p)                 # index into perm
        tokens = perm.gather(1, src.expand(B, L))
        targets = torch.full((B, L), IGNORE, dtype=torch.long)
        targets[:, :-1] = tokens[:, 1:]
        weights = (targets != IGNORE).float()
        return Batch(tokens, targets, weights, {"period": period, "start": start})


@dataclass(frozen=True)
class PreviousTokenCopy(_Task):
    """Uniform random tokens; the target at position i ≥ 1 is the token at i − 1."""

    vocab_size: int = 32
    length: int = 16
    name = "previous_token_copy"

    def __post_init__(self):
        check_positive_int("vocab_size", self.vocab_size)
        check_positive_int("length", self.length)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        _check_generator(generator)
        tokens = _randint(self.vocab_size, generator, (batch_size, self.length))
        targets = torch.full_like(tokens, IGNORE)
        targets[:, 1:] = tokens[:, :-1]
        return Batch(tokens, targets, (targets != IGNORE).float(), {})


@dataclass(frozen=True)
class AssociativeRecall(_Task):
    """MQAR (arXiv:2312.04927): ``k1 v1 … kN vN q1 … qM``; keys distinct, values random, each query a key
    of the sequence (without replacement when M ≤ N), target at query = its value.

    Vocabulary: keys 0..n_keys−1, values n_keys..n_keys+n_values−1. ``n_pairs`` may be an int or a tuple
    of ints: with a tuple each batch draws one of them (mixed training). Length 2N + M.
    info: ``n_pairs`` (int), ``query_mask`` (B, L) bool.
    """

    n_pairs: int | tuple = 8
    n_queries: int = 16
    n_keys: int = 128
    n_values: int = 64
    name = "associative_recall"

    def __post_init__(self):
        pairs = self.n_pairs if isinstance(self.n_pairs, tuple) else (self.n_pairs,)
        for n in pairs:
            check_positive_int("n_pairs", n)
            if n > self.n_keys:
                raise ValueError(f"n_pairs must be <= n_keys={self.n_keys} (keys are distinct), got {n}")
        check_positive_int("n_queries", self.n_queries)
        check_positive_int("n_values", self.n_values)

    @property
    def vocab_size(self) -> int:
        return self.n_keys + self.n_values

    def to_dict(self) -> dict:
        d = super().to_dict()
        if isinstance(self.n_pairs, tuple):
            d["n_pairs"] = list(self.n_pairs)
        return d

    def sample(self, batch_size: int, generator: torch.Generator, n_pairs: int | None = None) -> Batch:
        _check_generator(generator)
        if n_pairs is None:
            choices = self.n_pairs if isinstance(self.n_pairs, tuple) else (self.n_pairs,)
            n_pairs = choices[int(_randint(len(choices), generator))]
        B, N, M = batch_size, n_pairs, self.n_queries
        keys = torch.rand(B, self.n_keys, generator=generator).argsort(dim=1)[:, :N]         # distinct keys
        values = self.n_keys + _randint(self.n_values, generator, (B, N))
        if M <= N:
            which = torch.rand(B, N, generator=generator).argsort(dim=1)[:, :M]
        else:
            which = _randint(N, generator, (B, M))
        L = 2 * N + M
        tokens = torch.empty(B, L, dtype=torch.long)
        tokens[:, 0:2 * N:2], tokens[:, 1:2 * N:2] = keys, values
        tokens[:, 2 * N:] = keys.gather(1, which)
        targets = torch.full((B, L), IGNORE, dtype=torch.long)
        targets[:, 2 * N:] = values.gather(1, which)
        query_mask = targets != IGNORE
        return Batch(tokens, targets, query_mask.float(), {"n_pairs": N, "query_mask": query_mask})


@dataclass(frozen=True)
class NeedleHaystack(_Task):
    """Needle retrieval with distractors (Kamradt's NIAH; RULER multi-key NIAH, arXiv:2404.06654).

    One sample of ``context_len`` tokens is a haystack of H positions followed by the question part.
    In the haystack: the needle ``MARK key value`` (``order="key_value"``, RULER's "the number for
    <key> is <value>") or ``MARK value key`` (``order="value_key"``) starting at index
    ``round(depth·(H − 3))`` (depth 0 = first token, 1 = ends right before the question; an exact token
    position, no backtracking to a sentence boundary as Kamradt's inserter does); ``n_distractors``
    needles with other keys and other values at uniformly random non-overlapping places; filler
    everywhere else: one stream (:meth:`_filler_stream`) laid over the free positions in order.
    ``depth=None`` draws depth ~ U[0, 1] per sample.

    Question part: ``QUERY key`` and the answer ``value`` is predicted at the last position. With
    ``n_queries = q > 1`` (RULER's multi-query variant, used to give training more signal per sequence)
    it is ``QUERY k_1 v_1 QUERY k_2 v_2 … QUERY k_q`` where k_1..k_{q−1} are distractor keys and k_q
    the needle's key; each v_i is a target. H = context_len − (3q − 1). A tuple of counts draws one
    per batch.

    Vocabulary: 0 = MARK, 1 = QUERY, then n_keys keys, n_values values, n_filler filler tokens.
    Targets: the answers (weight 1 each) and, at each filler token followed by a filler token, the next
    filler token (weights 1/count per sample: the filler term is a per-sample mean).
    info: ``answer``, ``key`` (B,) of the last query; ``needle_start`` (B,); ``distractor_starts``
    (B, n_distractors); ``filler_mask`` (B, L) bool (positions scored for the filler loss);
    ``needle_pos``/``distractor_pos``: index of the needle's / distractors' *value* token;
    ``query_pos`` (q,) the positions where the q answers are predicted (H + 3i + 1, the last = L − 1),
    ``answers`` (B, q) the values asked for there, ``asked`` (B, q) which needle each query asks
    (0 = the needle at ``depth``, j ≥ 1 = distractor j − 1).
    """

    context_len: int = 64
    depth: float | None = None
    n_distractors: int = 3
    n_queries: int | tuple = 1
    order: str = "key_value"
    n_keys: int = 16
    n_values: int = 16
    n_filler: int = 32
    filler: str = "phrases"
    branching: int = 2
    filler_seed: int = 1234
    n_phrases: int = 4
    phrase_len: int = 4
    min_period: int = 8
    max_period: int = 16
    name = "needle_haystack"

    MARK = 0
    QUERY = 1
    NEEDLE_LEN = 3

    def __post_init__(self):
        for f in ("context_len", "n_keys", "n_values", "n_filler", "branching"):
            check_positive_int(f, getattr(self, f))
        for q in self._query_choices():
            check_positive_int("n_queries", q)
        if self.n_distractors < 0:
            raise ValueError(f"n_distractors must be >= 0, got {self.n_distractors}")
        if self.filler not in ("bigram", "phrases", "repeat"):
            raise ValueError(f"filler must be 'bigram', 'phrases' or 'repeat', got {self.filler!r}")
        if self.filler == "repeat" and not 1 <= self.min_period <= self.max_period <= self.n_filler:
            raise ValueError(f"need 1 <= min_period <= max_period <= n_filler={self.n_filler}, got "
                             f"{self.min_period}, {self.max_period}")
        check_positive_int("n_phrases", self.n_phrases)
        check_positive_int("phrase_len", self.phrase_len)
        if self.filler == "phrases" and self.n_phrases * self.phrase_len > self.n_filler:
            raise ValueError(f"n_phrases * phrase_len must be <= n_filler={self.n_filler} (distinct tokens), "
                             f"got {self.n_phrases * self.phrase_len}")
        if self.order not in ("key_value", "value_key"):
            raise ValueError(f"order must be 'key_value' or 'value_key', got {self.order!r}")
        if max(self._query_choices()) > self.n_distractors + 1:
            raise ValueError(f"n_queries must be <= n_distractors + 1 = {self.n_distractors + 1}, "
                             f"got {self.n_queries}")
        if self.depth is not None and not 0.0 <= self.depth <= 1.0:
            raise ValueError(f"depth must be in [0, 1] or None, got {self.depth}")
        if self.n_distractors + 1 > min(self.n_keys, self.n_values):
            raise ValueError(f"n_distractors + 1 must be <= min(n_keys, n_values), got {self.n_distractors + 1}")
        if (self.n_distractors + 1) * self.NEEDLE_LEN * 2 > self.haystack_len(max(self._query_choices())):
            raise ValueError(f"context_len={self.context_len} is too short for {self.n_distractors + 1} needles "
                             f"and {self.n_queries} queries")

    def _query_choices(self) -> tuple:
        return self.n_queries if isinstance(self.n_queries, tuple) else (self.n_queries,)

    def haystack_len(self, n_queries: int = 1) -> int:
        """H = context_len − (3·n_queries − 1)."""
        return self.context_len - (3 * n_queries - 1)

    def to_dict(self) -> dict:
        d = super().to_dict()
        if isinstance(self.n_queries, tuple):
            d["n_queries"] = list(self.n_queries)
        return d

    @property
    def vocab_size(self) -> int:
        return 2 + self.n_keys + self.n_values + self.n_filler

    @property
    def key_offset(self) -> int:
        return 2

    @property
    def value_offset(self) -> int:
        return 2 + self.n_keys

    @property
    def filler_offset(self) -> int:
        return 2 + self.n_keys + self.n_values

    def successors(self) -> torch.Tensor:
        """The bigram language: (n_filler, branching) successor table, fixed by ``filler_seed``."""
        g = torch.Generator().manual_seed(self.filler_seed)
        return torch.randint(0, self.n_filler, (self.n_filler, self.branching), generator=g)

    def optimal_filler_loss(self) -> float:
        """Entropy of the next filler token given the current one, averaged over tokens (nats): the
        floor of the filler loss (ln(branching) when a token's successors are distinct)."""
        ent = 0.0
        rows = self.successors().tolist()
        for row in rows:
            ps = [row.count(t) / len(row) for t in set(row)]
            ent -= sum(p * math.log(p) for p in ps)
        return ent / len(rows)

    def _filler_stream(self, B: int, L: int, generator: torch.Generator) -> torch.Tensor:
        """(B, L) filler ids 0..n_filler−1. ``bigram``: the chain x_{i+1} = succ[x_i, c_i], c_i uniform.
        ``phrases``: each sample draws ``n_phrases`` phrases of ``phrase_len`` tokens (all tokens
        distinct, so each token belongs to one phrase), and the stream is a concatenation of phrases
        picked uniformly from that pool: text that repeats itself, so a copy (induction) mechanism
        predicts every token of a phrase but its first once the phrase has been seen.
        ``repeat``: a segment of P distinct tokens (P uniform in [min_period, max_period] per sample)
        repeated (as in :class:`RepeatedSequences`): after the first P filler tokens every filler
        token is predictable by copying."""
        if self.filler == "bigram":
            succ = self.successors()
            walk = torch.randint(0, self.branching, (B, L), generator=generator)
            chain = torch.empty(B, L, dtype=torch.long)
            chain[:, 0] = torch.randint(0, self.n_filler, (B,), generator=generator)
            for i in range(1, L):
                chain[:, i] = succ[chain[:, i - 1], walk[:, i - 1]]
            return chain
        if self.filler == "repeat":
            period = torch.randint(self.min_period, self.max_period + 1, (B, 1), generator=generator)
            seg = torch.rand(B, self.n_filler, generator=generator).argsort(dim=1)
            return seg.gather(1, torch.arange(L)[None, :] % period)
        m, pl = self.n_phrases, self.phrase_len
        pool = torch.rand(B, self.n_filler, generator=generator).argsort(dim=1)[:, :m * pl].reshape(B, m, pl)
        n_ph = -(-L // pl)
        pick = torch.randint(0, m, (B, n_ph), generator=generator)
        stream = pool.gather(1, pick[:, :, None].expand(B, n_ph, pl)).reshape(B, n_ph * pl)
        return stream[:, :L]

    def with_(self, **changes) -> NeedleHaystack:
        d = asdict(self)
        d.update(changes)
        return NeedleHaystack(**d)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        _check_generator(generator)
        choices = self._query_choices()
        q = choices[int(torch.randint(0, len(choices), (), generator=generator))] if len(choices) > 1 else choices[0]
        B, L, n_d = batch_size, self.context_len, self.n_distractors
        H, nl = self.haystack_len(q), self.NEEDLE_LEN
        depth = (torch.full((B,), float(self.depth)) if self.depth is not None
                 else torch.rand(B, generator=generator))
        needle_start = torch.round(depth * (H - nl)).long()
        keys = torch.rand(B, self.n_keys, generator=generator).argsort(dim=1)[:, :n_d + 1]   # [needle, distractors]
        vals = torch.rand(B, self.n_values, generator=generator).argsort(dim=1)[:, :n_d + 1]
        starts = needle_start[:, None]
        for _ in range(n_d):
            # uniform over the starts s whose span s..s+2 is free: rejection sampling, batch-vectorised
            s = torch.randint(0, H - nl + 1, (B,), generator=generator)
            while True:
                clash = ((s[:, None] - starts).abs() < nl).any(dim=1)
                if not bool(clash.any()):
                    break
                s = torch.where(clash, torch.randint(0, H - nl + 1, (B,), generator=generator), s)
            starts = torch.cat([starts, s[:, None]], dim=1)
        pos = torch.arange(L)
        rel = pos[None, None, :] - starts[:, :, None]
        free = ~((rel >= 0) & (rel < nl)).any(dim=1)
        free[:, H:] = False                                               # the question part
        chain = self._filler_stream(B, L, generator)                     # laid over the free positions in order
        rank = (free.long().cumsum(dim=1) - 1).clamp(min=0)
        tokens = torch.where(free, self.filler_offset + chain.gather(1, rank), torch.zeros_like(rank))
        rows = torch.arange(B)[:, None].expand(B, n_d + 1)
        k_off, v_off = (1, 2) if self.order == "key_value" else (2, 1)
        tokens[rows, starts] = self.MARK
        tokens[rows, starts + k_off] = self.key_offset + keys
        tokens[rows, starts + v_off] = self.value_offset + vals
        filler_mask = torch.zeros(B, L, dtype=torch.bool)
        filler_mask[:, :-1] = free[:, :-1] & free[:, 1:]                  # filler followed by filler
        targets = torch.full((B, L), IGNORE, dtype=torch.long)
        targets[:, :-1] = torch.where(filler_mask[:, :-1], tokens[:, 1:], IGNORE)
        n_f = filler_mask.sum(1, keepdim=True).clamp(min=1).float()
        weights = filler_mask.float() / n_f
        asked = [*range(1, q), 0]                                   # distractors first, needle last
        for i, j in enumerate(asked):
            p = H + 3 * i
            tokens[:, p] = self.QUERY
            tokens[:, p + 1] = self.key_offset + keys[:, j]
            targets[:, p + 1] = self.value_offset + vals[:, j]
            weights[:, p + 1] = 1.0
            if p + 2 < L:
                tokens[:, p + 2] = self.value_offset + vals[:, j]
        answer = self.value_offset + vals[:, 0]
        asked_t = torch.tensor(asked, dtype=torch.long)
        info = {"answer": answer, "key": self.key_offset + keys[:, 0], "needle_start": needle_start,
                "distractor_starts": starts[:, 1:], "filler_mask": filler_mask,
                "needle_pos": needle_start + v_off, "distractor_pos": starts[:, 1:] + v_off,
                "query_pos": H + 3 * torch.arange(q) + 1, "answers": self.value_offset + vals[:, asked_t],
                "asked": asked_t[None, :].expand(B, q).clone()}
        return Batch(tokens, targets, weights, info)



@dataclass(frozen=True)
class PairRecall(_Task):
    """Two look-ups at once: the answer is the *ordered* pair of two values read from two places.

    Context: ``n_pairs`` key–value slots ``k v k v …`` (values uniform in 0..n_values−1, repeats allowed),
    then ``n_queries`` questions. The answer of a question is one token, the ordered pair
    ``(first, second)`` of two values (``pair_offset + first·n_values + second``), predicted at the
    question's last token. Which value is first matters, so a blend of the two value vectors with
    equal weights is not enough: it holds the set {first, second}, not the order (Vaswani et al. 2017,
    §3.2.2: "With a single attention head, averaging inhibits this").

    * ``mode="two_keys"``: keys distinct; question ``Q ka kb`` (two different slots a ≠ b, drawn per
      question); answer at ``kb`` = (value of ka, value of kb). The two values are found by two
      different keys: ka through the previous token (the model's token shift), kb through the current one.
    * ``mode="repeated_key"``: ``n_queries`` keys appear in two slots each, the other
      ``n_pairs − 2·n_queries`` keys once; question ``Q k`` for each repeated key (in random order);
      answer at ``k`` = (value at the earlier slot, value at the later slot). Both values match the same
      key, so only their positions tell them apart.

    Vocabulary: 0 = QUERY, keys 1..n_keys, values ``value_offset`` + 0..n_values−1, then the
    n_values² pair answers from ``pair_offset``. Length 2·n_pairs + 3·n_queries (two_keys) or
    2·n_pairs + 2·n_queries (repeated_key). Targets: the answers only (weight 1 each).
    info: ``answer_pos`` (B, M) (the same for every sample), ``first_pos`` / ``second_pos`` (B, M):
    the positions of the two value tokens the answer needs, ``first_value`` / ``second_value`` (B, M)
    in 0..n_values−1, ``answer_mask`` (B, L) bool.
    """

    mode: str = "two_keys"
    n_pairs: int = 8
    n_queries: int = 4
    n_keys: int = 16
    n_values: int = 8
    name = "pair_recall"

    QUERY = 0

    def __post_init__(self):
        for f in ("n_pairs", "n_queries", "n_keys", "n_values"):
            check_positive_int(f, getattr(self, f))
        if self.mode not in ("two_keys", "repeated_key"):
            raise ValueError(f"mode must be 'two_keys' or 'repeated_key', got {self.mode!r}")
        if self.mode == "two_keys" and not 2 <= self.n_pairs <= self.n_keys:
            raise ValueError(f"mode='two_keys' needs 2 <= n_pairs <= n_keys={self.n_keys} (distinct keys), "
                             f"got n_pairs={self.n_pairs}")
        if self.mode == "repeated_key" and (2 * self.n_queries > self.n_pairs
                                            or self.n_pairs - self.n_queries > self.n_keys):
            raise ValueError(f"mode='repeated_key' needs 2*n_queries <= n_pairs and n_pairs - n_queries <= "
                             f"n_keys={self.n_keys}, got n_pairs={self.n_pairs}, n_queries={self.n_queries}")

    @property
    def key_offset(self) -> int:
        return 1

    @property
    def value_offset(self) -> int:
        return 1 + self.n_keys

    @property
    def pair_offset(self) -> int:
        return 1 + self.n_keys + self.n_values

    @property
    def vocab_size(self) -> int:
        return self.pair_offset + self.n_values ** 2

    @property
    def length(self) -> int:
        return 2 * self.n_pairs + (3 if self.mode == "two_keys" else 2) * self.n_queries

    def pair_token(self, first, second):
        """The answer token of the ordered pair (first, second) of values in 0..n_values−1."""
        return self.pair_offset + first * self.n_values + second

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        _check_generator(generator)
        B, N, M, V = batch_size, self.n_pairs, self.n_queries, self.n_values
        if self.mode == "two_keys":
            slot_keys = torch.rand(B, self.n_keys, generator=generator).argsort(dim=1)[:, :N]
            vals = _randint(V, generator, (B, N))
            pick = torch.rand(B, M, N, generator=generator).argsort(dim=-1)[..., :2]   # slots a != b
            first_slot, second_slot = pick[..., 0], pick[..., 1]
            q_len = 3
        else:
            n_distinct = N - M                                  # N − 2M single keys, M repeated keys
            keys = torch.rand(B, self.n_keys, generator=generator).argsort(dim=1)[:, :n_distinct]
            layout = torch.cat([keys, keys[:, N - 2 * M:]], dim=1)     # the repeated keys' second copies last
            order = torch.rand(B, N, generator=generator).argsort(dim=1)
            slot_keys = layout.gather(1, order)                 # slot i holds layout[order[i]]
            where = order.argsort(dim=1)                        # where[j] = the slot of layout entry j
            asked = torch.rand(B, M, generator=generator).argsort(dim=1)    # which repeated key, per question
            s1 = where[:, N - 2 * M:N - M].gather(1, asked)
            s2 = where[:, N - M:].gather(1, asked)
            first_slot, second_slot = torch.minimum(s1, s2), torch.maximum(s1, s2)
            vals = _randint(V, generator, (B, N))
            q_len = 2
        L = 2 * N + q_len * M
        tokens = torch.empty(B, L, dtype=torch.long)
        tokens[:, 0:2 * N:2] = self.key_offset + slot_keys
        tokens[:, 1:2 * N:2] = self.value_offset + vals
        first_value, second_value = vals.gather(1, first_slot), vals.gather(1, second_slot)
        q0 = 2 * N + q_len * torch.arange(M)                    # QUERY token of each question
        answer_pos = q0 + q_len - 1
        tokens[:, q0] = self.QUERY
        if self.mode == "two_keys":
            tokens[:, q0 + 1] = self.key_offset + slot_keys.gather(1, first_slot)
            tokens[:, q0 + 2] = self.key_offset + slot_keys.gather(1, second_slot)
        else:
            tokens[:, q0 + 1] = self.key_offset + slot_keys.gather(1, first_slot)
        targets = torch.full((B, L), IGNORE, dtype=torch.long)
        targets[:, answer_pos] = self.pair_token(first_value, second_value)
        answer_mask = targets != IGNORE
        info = {"answer_pos": answer_pos[None].expand(B, M).clone(), "first_pos": 2 * first_slot + 1,
                "second_pos": 2 * second_slot + 1, "first_value": first_value, "second_value": second_value,
                "answer_mask": answer_mask}
        return Batch(tokens, targets, answer_mask.float(), info)


@dataclass(frozen=True)
class SelectiveCopying(_Task):
    """Selective copying (Gu & Dao 2023, arXiv:2312.00752 §3.1, Fig. 2): ``region`` positions hold
    ``n_tokens`` content tokens (uniform in 0..n_content−1, repeats allowed) at positions drawn without
    replacement, in increasing order, and the NOISE token everywhere else; then ``n_tokens`` MARK tokens.
    The target at the j-th MARK is the j-th content token (no teacher forcing: the inputs there are all MARK).

    ``spacing="random"``: positions drawn per sample (the model must *select* by content);
    ``spacing="even"``: content token j always at ``j·(region // n_tokens)`` (plain copying, Arjovsky et al.
    2016: each output's lag to its input is the same in every sample, so a fixed filter can do it).
    Vocabulary: content 0..n_content−1, NOISE = n_content, MARK = n_content + 1. Length region + n_tokens.
    info: ``content_pos`` (B, K) sorted positions, ``content`` (B, K), ``answer_mask`` (B, L) bool.
    """

    region: int = 32
    n_tokens: int = 8
    n_content: int = 8
    spacing: str = "random"
    name = "selective_copying"

    def __post_init__(self):
        for f in ("region", "n_tokens", "n_content"):
            check_positive_int(f, getattr(self, f))
        if self.n_tokens > self.region:
            raise ValueError(f"n_tokens must be <= region={self.region}, got {self.n_tokens}")
        if self.spacing not in ("random", "even"):
            raise ValueError(f"spacing must be 'random' or 'even', got {self.spacing!r}")

    @property
    def noise(self) -> int:
        return self.n_content

    @property
    def mark(self) -> int:
        return self.n_content + 1

    @property
    def vocab_size(self) -> int:
        return self.n_content + 2

    @property
    def length(self) -> int:
        return self.region + self.n_tokens

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        _check_generator(generator)
        B, R, K = batch_size, self.region, self.n_tokens
        content = _randint(self.n_content, generator, (B, K))
        if self.spacing == "random":
            pos = torch.rand(B, R, generator=generator).argsort(dim=1)[:, :K].sort(dim=1).values
        else:
            pos = (torch.arange(K) * (R // K))[None].expand(B, K).clone()
        tokens = torch.full((B, R + K), self.noise, dtype=torch.long)
        tokens.scatter_(1, pos, content)
        tokens[:, R:] = self.mark
        targets = torch.full((B, R + K), IGNORE, dtype=torch.long)
        targets[:, R:] = content
        answer_mask = targets != IGNORE
        return Batch(tokens, targets, answer_mask.float(),
                     {"content_pos": pos, "content": content, "answer_mask": answer_mask})


_TASKS = {c.name: c for c in (RepeatedSequences, PreviousTokenCopy, AssociativeRecall, NeedleHaystack,
                               PairRecall, SelectiveCopying)}


def make_task(d: dict):
    """Rebuild a task from its ``to_dict()``."""
    d = dict(d)
    name = d.pop("task", None)
    if name not in _TASKS:
        raise ValueError(f"task must be one of {sorted(_TASKS)}, got {name!r}")
    for key in ("n_pairs", "n_queries"):
        if isinstance(d.get(key), list):
            d[key] = tuple(d[key])
    return _TASKS[name](**d)
