"""One ``Reference`` type for the whole course: the manifest's reference lists (video descriptions),
citation lines on slides, references cards and the equations' sources all use it.

    VASWANI.cite         -> "Vaswani et al. 2017"
    VASWANI.short()      -> "Vaswani et al. 2017 · Attention Is All You Need · arXiv:1706.03762"
    VASWANI.text()       -> "Vaswani et al. 2017, Attention Is All You Need. arXiv:1706.03762 https://…"

The papers the course cites live here once, as module constants; a lecture's references card lists
the ones it uses. Pure Python (no manim): the manifest and data modules import it.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reference"]


@dataclass(frozen=True)
class Reference:
    """A paper or book: authors as cited ("Vaswani et al."), year, title, and where to find it
    (``arxiv`` id, else ``venue`` — a journal or proceedings — or ``url``)."""

    authors: str
    year: int
    title: str
    arxiv: str | None = None
    venue: str | None = None
    url: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.authors.strip() or not self.title.strip():
            raise ValueError(f"a reference needs authors and a title, got {self!r}")
        if not isinstance(self.year, int) or not 1900 < self.year < 2100:
            raise ValueError(f"reference {self.authors!r}: year must be an int like 2017, got {self.year!r}")

    @property
    def cite(self) -> str:
        """``Vaswani et al. 2017``."""
        return f"{self.authors} {self.year}"

    def short(self, venue: bool = True) -> str:
        """The citation line at the bottom of a slide: authors year · title · venue · arXiv id
        (``venue=False`` leaves the venue out when there is an arXiv id)."""
        parts = [self.cite, self.title]
        if self.venue and (venue or not self.arxiv):
            parts.append(self.venue)
        if self.arxiv:
            parts.append(f"arXiv:{self.arxiv}")
        return " \u00b7 ".join(parts)

    def text(self) -> str:
        """One line for a video description: ``cite, title. arXiv:id https://arxiv.org/abs/id``."""
        s = f"{self.cite}, {self.title}"
        if self.arxiv:
            s += f". arXiv:{self.arxiv} https://arxiv.org/abs/{self.arxiv}"
        elif self.venue:
            s += f". {self.venue}" + (f" {self.url}" if self.url else "")
        elif self.url:
            s += f". {self.url}"
        return s

    @property
    def source(self) -> str:
        """``arXiv:1706.03762``, else the venue, else the URL."""
        return f"arXiv:{self.arxiv}" if self.arxiv else (self.venue or self.url or "")


# ------------------------------------------------------------------------------------------- catalogue
# Every paper the course cites, once. Named after the first author in capitals; a year, then a word,
# only where that name is taken twice. Lecture 1's papers carry their venue as well as the arXiv id.

RUMELHART = Reference("Rumelhart, Hinton & Williams", 1986, "Learning representations by back-propagating errors",
                      venue="Nature 323, 533–536")
ELMAN = Reference("Elman", 1990, "Finding Structure in Time", venue="Cognitive Science 14(2), 179–211")
BENGIO_1994 = Reference("Bengio, Simard & Frasconi", 1994, "Learning long-term dependencies with gradient descent "
                        "is difficult", venue="IEEE Transactions on Neural Networks 5(2), 157–166")
HOCHREITER = Reference("Hochreiter & Schmidhuber", 1997, "Long Short-Term Memory",
                       venue="Neural Computation 9(8), 1735–1780")
SUTSKEVER = Reference("Sutskever, Vinyals & Le", 2014, "Sequence to Sequence Learning with Neural Networks",
                      arxiv="1409.3215", venue="NeurIPS 2014")
CHO = Reference("Cho et al.", 2014, "Learning Phrase Representations using RNN Encoder–Decoder for Statistical "
                "Machine Translation", arxiv="1406.1078", venue="EMNLP 2014")
BAHDANAU = Reference("Bahdanau, Cho & Bengio", 2014, "Neural Machine Translation by Jointly Learning to Align and "
                     "Translate", arxiv="1409.0473", venue="ICLR 2015")
LUONG = Reference("Luong, Pham & Manning", 2015, "Effective Approaches to Attention-based Neural Machine "
                  "Translation", arxiv="1508.04025", venue="EMNLP 2015")
VASWANI = Reference("Vaswani et al.", 2017, "Attention Is All You Need", arxiv="1706.03762", venue="NeurIPS 2017")
SHAZEER_2019 = Reference("Shazeer", 2019, "Fast Transformer Decoding: One Write-Head is All You Need",
                         arxiv="1911.02150")
AINSLIE_2023 = Reference("Ainslie et al.", 2023, "GQA: Training Generalized Multi-Query Transformer Models from "
                         "Multi-Head Checkpoints", arxiv="2305.13245")
SU = Reference("Su et al.", 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", arxiv="2104.09864")
CHEN_2023_PI = Reference("Chen et al.", 2023, "Extending Context Window of Large Language Models via Positional "
                         "Interpolation", arxiv="2306.15595")
PENG = Reference("Peng et al.", 2023, "YaRN: Efficient Context Window Extension of Large Language Models",
                 arxiv="2309.00071")
ROZIERE = Reference("Rozière et al.", 2023, "Code Llama: Open Foundation Models for Code", arxiv="2308.12950")
LLAMA = Reference("Llama Team", 2024, "The Llama 3 Herd of Models", arxiv="2407.21783")
DAO_2022 = Reference("Dao et al.", 2022, "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
                     arxiv="2205.14135")
JIANG_2023 = Reference("Jiang et al.", 2023, "Mistral 7B", arxiv="2310.06825")
XIAO = Reference("Xiao et al.", 2023, "Efficient Streaming Language Models with Attention Sinks", arxiv="2309.17453")
LIU_2023_LOST = Reference("Liu et al.", 2023, "Lost in the Middle: How Language Models Use Long Contexts",
                          arxiv="2307.03172")
GEMMA_2024 = Reference("Gemma Team", 2024, "Gemma 2: Improving Open Language Models at a Practical Size",
                       arxiv="2408.00118")
GEMMA_2025 = Reference("Gemma Team", 2025, "Gemma 3 Technical Report", arxiv="2503.19786")
DONG = Reference("Dong et al.", 2024, "Flex Attention: A Programming Model for Generating Optimized Attention Kernels",
                 arxiv="2412.05496")
POPE = Reference("Pope et al.", 2022, "Efficiently Scaling Transformer Inference", arxiv="2211.05102")
DEEPSEEK_2024_V2 = Reference("DeepSeek-AI", 2024, "DeepSeek-V2: A Strong, Economical, and Efficient "
                             "Mixture-of-Experts Language Model", arxiv="2405.04434")
DEEPSEEK_2024_V3 = Reference("DeepSeek-AI", 2024, "DeepSeek-V3 Technical Report", arxiv="2412.19437")
VOITA = Reference("Voita et al.", 2019, "Analyzing Multi-Head Self-Attention: Specialized Heads Do the Heavy Lifting, "
                  "the Rest Can Be Pruned", arxiv="1905.09418")
MICHEL = Reference("Michel et al.", 2019, "Are Sixteen Heads Really Better than One?", arxiv="1905.10650")
CLARK = Reference("Clark et al.", 2019, "What Does BERT Look At? An Analysis of BERT's Attention", arxiv="1906.04341")
ELHAGE = Reference("Elhage et al.", 2021, "A Mathematical Framework for Transformer Circuits",
                   url="https://transformer-circuits.pub/2021/framework/index.html")
OLSSON = Reference("Olsson et al.", 2022, "In-context Learning and Induction Heads", arxiv="2209.11895")
BHOJANAPALLI = Reference("Bhojanapalli et al.", 2020, "Low-Rank Bottleneck in Multi-head Attention Models",
                         arxiv="2002.07028")
SHOEYBI = Reference("Shoeybi et al.", 2019, "Megatron-LM: Training Multi-Billion Parameter Language Models Using "
                    "Model Parallelism", arxiv="1909.08053")
JAIN = Reference("Jain & Wallace", 2019, "Attention is not Explanation", arxiv="1902.10186", note="verify id")
SHAW = Reference("Shaw et al.", 2018, "Self-Attention with Relative Position Representations", arxiv="1803.02155")
RAFFEL = Reference("Raffel et al.", 2019, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text "
                   "Transformer (T5)", arxiv="1910.10683")
PRESS = Reference("Press et al.", 2021, "Train Short, Test Long: Attention with Linear Biases Enables Input Length "
                  "Extrapolation (ALiBi)", arxiv="2108.12409")
HAVIV = Reference("Haviv et al.", 2022, "Transformer Language Models without Positional Encodings Still Learn "
                  "Positional Information", arxiv="2203.16634")
KAZEMNEJAD = Reference("Kazemnejad et al.", 2023, "The Impact of Positional Encoding on Length Generalization in "
                       "Transformers (NoPE)", arxiv="2305.19466")
DING = Reference("Ding et al.", 2024, "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens",
                 arxiv="2402.13753")
KAPLAN = Reference("Kaplan et al.", 2020, "Scaling Laws for Neural Language Models", arxiv="2001.08361")
DEVLIN = Reference("Devlin et al.", 2018, "BERT: Pre-training of Deep Bidirectional Transformers for Language "
                   "Understanding", arxiv="1810.04805")
BROWN = Reference("Brown et al.", 2020, "Language Models are Few-Shot Learners", arxiv="2005.14165")
LIU_2023_RING = Reference("Liu et al.", 2023, "Ring Attention with Blockwise Transformers for Near-Infinite Context",
                          arxiv="2310.01889")
HSIEH = Reference("Hsieh et al.", 2024, "RULER: What's the Real Context Size of Your Long-Context Language Models?",
                  arxiv="2404.06654")
GEMINI = Reference("Gemini Team", 2024, "Gemini 1.5: Unlocking multimodal understanding across millions of tokens of "
                   "context", arxiv="2403.05530")
KWON = Reference("Kwon et al.", 2023, "Efficient Memory Management for Large Language Model Serving with "
                 "PagedAttention", arxiv="2309.06180")
YU = Reference("Yu et al.", 2022, "Orca: A Distributed Serving System for Transformer-Based Generative Models",
               venue="OSDI '22")
LEVIATHAN = Reference("Leviathan et al.", 2022, "Fast Inference from Transformers via Speculative Decoding",
                      arxiv="2211.17192")
CHEN_2023_SPECULATIVE = Reference("Chen et al.", 2023, "Accelerating Large Language Model Decoding with Speculative "
                                  "Sampling", arxiv="2302.01318")
DAO_2023_DECODING = Reference("Dao et al.", 2023, "Flash-Decoding for long-context inference",
                              venue="PyTorch blog", url="https://pytorch.org/blog/flash-decoding/")
DAO_2023_FLASH2 = Reference("Dao", 2023, "FlashAttention-2: Faster Attention with Better Parallelism and Work "
                            "Partitioning", arxiv="2307.08691")
SHAH = Reference("Shah et al.", 2024, "FlashAttention-3: Fast and Accurate Attention with Asynchrony and Low-precision",
                 arxiv="2407.08608")
MILAKOV = Reference("Milakov & Gimelshein", 2018, "Online normalizer calculation for softmax", arxiv="1805.02867")
RABE = Reference("Rabe & Staats", 2021, "Self-attention Does Not Need O(n^2) Memory", arxiv="2112.05682")
TILLET = Reference("Tillet et al.", 2019, "Triton: An Intermediate Language and Compiler for Tiled Neural Network "
                   "Computations", venue="MAPL '19")
CHILD = Reference("Child et al.", 2019, "Generating Long Sequences with Sparse Transformers", arxiv="1904.10509")
BELTAGY = Reference("Beltagy et al.", 2020, "Longformer: The Long-Document Transformer", arxiv="2004.05150")
AINSLIE_2020 = Reference("Ainslie et al.", 2020, "ETC: Encoding Long and Structured Inputs in Transformers",
                         arxiv="2004.08483", note="verify id")
ZAHEER = Reference("Zaheer et al.", 2020, "Big Bird: Transformers for Longer Sequences", arxiv="2007.14062")
TOUVRON = Reference("Touvron et al.", 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models", arxiv="2307.09288")
CHOWDHERY = Reference("Chowdhery et al.", 2022, "PaLM: Scaling Language Modeling with Pathways", arxiv="2204.02311")
HU = Reference("Hu et al.", 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arxiv="2106.09685")
MENG = Reference("Meng et al.", 2025, "TransMLA: Multi-Head Latent Attention Is All You Need",
                 arxiv="2502.07864", note="verify id")
JI = Reference("Ji et al.", 2025, "Towards Economical Inference: Enabling DeepSeek's Multi-Head Latent Attention in "
               "Any Transformer-based LLMs (MHA2MLA)", arxiv="2502.14837", note="verify id")
KATHAROPOULOS = Reference("Katharopoulos et al.", 2020, "Transformers are RNNs: Fast Autoregressive Transformers with "
                          "Linear Attention", arxiv="2006.16236")
CHOROMANSKI = Reference("Choromanski et al.", 2020, "Rethinking Attention with Performers", arxiv="2009.14794")
SUN = Reference("Sun et al.", 2023, "Retentive Network: A Successor to Transformer for Large Language Models",
                arxiv="2307.08621")
YANG_2023 = Reference("Yang et al.", 2023, "Gated Linear Attention Transformers with Hardware-Efficient Training",
                      arxiv="2312.06635")
YANG_2024 = Reference("Yang et al.", 2024, "Parallelizing Linear Transformers with the Delta Rule over Sequence Length",
                      arxiv="2406.06484", note="verify id")
GU_2020 = Reference("Gu et al.", 2020, "HiPPO: Recurrent Memory with Optimal Polynomial Projections",
                    arxiv="2008.07669")
GU_2021 = Reference("Gu et al.", 2021, "Efficiently Modeling Long Sequences with Structured State Spaces (S4)",
                    arxiv="2111.00396")
GU_2022 = Reference("Gu et al.", 2022, "On the Parameterization and Initialization of Diagonal State Space Models "
                    "(S4D)", arxiv="2206.11893")
GU_2023 = Reference("Gu & Dao", 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                    arxiv="2312.00752")
DAO_2024 = Reference("Dao & Gu", 2024, "Transformers are SSMs: Generalized Models and Efficient Algorithms Through "
                     "Structured State Space Duality (Mamba-2)", arxiv="2405.21060")
ARORA_2023 = Reference("Arora et al.", 2023, "Zoology: Measuring and Improving Recall in Efficient Language Models",
                       arxiv="2312.04927")
JELASSI = Reference("Jelassi et al.", 2024, "Repeat After Me: Transformers are Better than State Space Models at "
                    "Copying", arxiv="2402.01032")
ARORA_2024 = Reference("Arora et al.", 2024, "Simple linear attention language models balance the recall-throughput "
                       "tradeoff (Based)", arxiv="2402.18668")
LIEBER = Reference("Lieber et al.", 2024, "Jamba: A Hybrid Transformer-Mamba Language Model", arxiv="2403.19887")
DE = Reference("De et al.", 2024, "Griffin: Mixing Gated Linear Recurrences with Local Attention for Efficient "
               "Language Models", arxiv="2402.19427")
YE = Reference("Ye et al.", 2024, "Differential Transformer", arxiv="2410.05258")
ZHANG_2019 = Reference("Zhang & Sennrich", 2019, "Root Mean Square Layer Normalization", arxiv="1910.07467")
WU = Reference("Wu & He", 2018, "Group Normalization", arxiv="1803.08494")
SHAZEER_2017 = Reference("Shazeer et al.", 2017, "Outrageously Large Neural Networks: The Sparsely-Gated "
                         "Mixture-of-Experts Layer", arxiv="1701.06538")
LEPIKHIN = Reference("Lepikhin et al.", 2020, "GShard: Scaling Giant Models with Conditional Computation and "
                     "Automatic Sharding", arxiv="2006.16668")
FEDUS = Reference("Fedus et al.", 2021, "Switch Transformers: Scaling to Trillion Parameter Models with Simple and "
                  "Efficient Sparsity", arxiv="2101.03961")
ZOPH = Reference("Zoph et al.", 2022, "ST-MoE: Designing Stable and Transferable Sparse Expert Models",
                 arxiv="2202.08906")
ZHOU = Reference("Zhou et al.", 2022, "Mixture-of-Experts with Expert Choice Routing", arxiv="2202.09368")
ZHANG_2022 = Reference("Zhang et al.", 2022, "Mixture of Attention Heads: Selecting Attention Heads Per Token",
                       arxiv="2210.05144")
CSORDAS = Reference("Csordás et al.", 2023, "SwitchHead: Accelerating Transformers with Mixture-of-Experts Attention",
                    arxiv="2312.07987")
JIANG_2024 = Reference("Jiang et al.", 2024, "Mixtral of Experts", arxiv="2401.04088")
DAI = Reference("Dai et al.", 2024, "DeepSeekMoE: Towards Ultimate Expert Specialization in Mixture-of-Experts "
                "Language Models", arxiv="2401.06066")
WANG = Reference("Wang et al.", 2024, "Auxiliary-Loss-Free Load Balancing Strategy for Mixture-of-Experts",
                 arxiv="2408.15664")
JIN = Reference("Jin et al.", 2024, "MoH: Multi-Head Attention as Head-Routing Mixture-of-Experts", arxiv="2410.11842")

# Sources of the equation registry (scenes/kit/equations) that no lecture's card lists:
BRIDLE = Reference("Bridle", 1990, "Probabilistic Interpretation of Feedforward Classification Network Outputs, "
                   "with Relationships to Statistical Pattern Recognition",
                   venue="Neurocomputing, NATO ASI Series F 68, Springer, 227–236")
GOODFELLOW = Reference("Goodfellow, Bengio & Courville", 2016, "Deep Learning", venue="MIT Press",
                       url="https://www.deeplearningbook.org")
HINTON = Reference("Hinton, Vinyals & Dean", 2015, "Distilling the Knowledge in a Neural Network",
                   arxiv="1503.02531")
HOLTZMAN = Reference("Holtzman et al.", 2019, "The Curious Case of Neural Text Degeneration", arxiv="1904.09751")
