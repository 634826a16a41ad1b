"""Published model shapes as tested constants, each with its source (paper arXiv id and/or config file).

Only the shape is recorded (no weights). :class:`ModelConfig` derives from it what the lectures show: the
KV cache per token (``2 · n_layers · n_kv_heads · head_dim · bytes``, :func:`attn_ref.kv_cache_bytes`;
``n_layers · (d_c + d_h^R) · bytes`` for MLA), the parameter count, the FLOPs of a layer and the
attention/MLP crossover length (:mod:`attn_ref.costs`). Tests check the KV bytes and parameter counts
against the published figures.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._checks import check_choice, check_positive_int
from .costs import MLP_KINDS, attention_mlp_crossover, layer_flops
from .kv_cache import kv_cache_bytes
from .mla import DEEPSEEK_V2, MLAConfig, mla_cache_elems_per_token
from .multihead import attention_params
from .rope import RopeScaling

__all__ = [
    "DEEPSEEK_67B",
    "DEEPSEEK_V2_MODEL",
    "GPT2_SMALL",
    "LLAMA2_7B",
    "LLAMA2_70B",
    "LLAMA3_8B",
    "MISTRAL_7B",
    "PRESETS",
    "TRANSFORMER_BASE",
    "ModelConfig",
]


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a published transformer.

    n_layers (decoder layers; per stack for an encoder-decoder), d_model, n_heads, n_kv_heads (GQA groups;
    = n_heads for MHA), head_dim, d_ff (MLP width), vocab, context (trained context length, None when the
    paper states none), rope_base (None without RoPE), window (sliding window, None for full attention),
    source (paper arXiv id and config file). Architecture details used by :meth:`n_params`: ``mlp``
    ("swiglu", or "gelu"/"relu" = a 2-matrix MLP), ``norm`` ("rmsnorm" or "layernorm"), ``bias`` (linear biases),
    ``tied_embeddings``, ``positions`` ("rope", "learned", "sinusoidal"), ``encoder_decoder``. ``mla``: the
    :class:`MLAConfig` of a latent-attention model (its cache replaces the K/V cache), ``rope_scaling``:
    the long-context scaling it ships with, ``moe``: True for mixture-of-experts models (no parameter count).
    """

    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ff: int
    vocab: int
    context: int | None
    rope_base: float | None
    window: int | None
    source: str
    mlp: str = "swiglu"
    norm: str = "rmsnorm"
    bias: bool = False
    tied_embeddings: bool = False
    positions: str = "rope"
    encoder_decoder: bool = False
    mla: MLAConfig | None = None
    rope_scaling: RopeScaling | None = None
    moe: bool = False

    def __post_init__(self):
        for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff", "vocab"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("context", self.context, allow_none=True)
        check_positive_int("window", self.window, allow_none=True)
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must be divisible by n_kv_heads ({self.n_kv_heads})")
        check_choice("mlp", self.mlp, MLP_KINDS)
        check_choice("norm", self.norm, ("rmsnorm", "layernorm"))
        check_choice("positions", self.positions, ("rope", "learned", "sinusoidal"))
        if self.positions == "learned" and self.context is None:
            raise ValueError("learned positions need a context length, got context=None")
        if self.mla is not None and not isinstance(self.mla, MLAConfig):
            raise TypeError(f"mla must be an MLAConfig or None, got {type(self.mla).__name__}")

    # -- memory ----------------------------------------------------------------------------------------
    def kv_elems_per_token(self) -> int:
        """Cached numbers per token over all layers: 2 · n_layers · n_kv_heads · head_dim, or
        n_layers · (d_c + d_h^R) with MLA. For an encoder-decoder: the decoder's self-attention cache."""
        if self.mla is not None:
            return self.n_layers * mla_cache_elems_per_token(self.mla)
        return kv_cache_bytes(self.n_layers, self.n_kv_heads, self.head_dim, 1, 1, 1)

    def kv_bytes_per_token(self, bytes_per_elem: int = 2) -> int:
        """KV-cache bytes per token (fp16/bf16 by default): Llama-2-7B 512 KiB, Mistral-7B 128 KiB."""
        check_positive_int("bytes_per_elem", bytes_per_elem)
        return self.kv_elems_per_token() * bytes_per_elem

    def kv_cache_bytes(self, seq_len: int, batch: int = 1, bytes_per_elem: int = 2,
                       rolling_buffer: bool = False) -> int:
        """KV-cache bytes for ``batch`` sequences of ``seq_len`` tokens; with ``rolling_buffer`` a sliding-window
        model holds only min(seq_len, window) tokens (Mistral's rolling buffer, arXiv:2310.06825 §2)."""
        check_positive_int("seq_len", seq_len)
        check_positive_int("batch", batch)
        held = min(seq_len, self.window) if (rolling_buffer and self.window is not None) else seq_len
        return batch * held * self.kv_bytes_per_token(bytes_per_elem)

    # -- parameters ------------------------------------------------------------------------------------
    def n_params(self) -> int:
        """Parameters computed from the shape (embeddings, attention, MLP, norms, LM head unless tied).

        Per decoder layer: Q/K/V/O (:func:`attn_ref.attention_params`, GQA and biases included), the MLP
        (3·d·d_ff for SwiGLU; 2·d·d_ff + d_ff + d with biases for a 2-matrix MLP), two norms (d each for
        RMSNorm, 2d for LayerNorm); a final norm. An encoder-decoder has n_layers encoder layers (attention,
        MLP, 2 norms) and n_layers decoder layers (self- and cross-attention, MLP, 3 norms), one embedding
        shared by both stacks and the output layer (Vaswani et al. §3.4) and no final norm (post-norm).
        Not modelled for MoE or MLA presets (ValueError).
        """
        if self.moe or self.mla is not None:
            raise ValueError(f"{self.name}: parameter count not modelled for MoE / MLA presets")
        d = self.d_model
        attn = attention_params(d, self.n_heads, self.n_kv_heads, self.bias)
        if self.mlp == "swiglu":
            mlp = 3 * d * self.d_ff + ((2 * self.d_ff + d) if self.bias else 0)
        else:
            mlp = 2 * d * self.d_ff + ((self.d_ff + d) if self.bias else 0)
        norm = d if self.norm == "rmsnorm" else 2 * d
        embed = self.vocab * d + (self.context * d if self.positions == "learned" else 0)
        head = 0 if self.tied_embeddings else self.vocab * d
        if self.encoder_decoder:
            encoder = self.n_layers * (attn + mlp + 2 * norm)
            decoder = self.n_layers * (2 * attn + mlp + 3 * norm)
            return embed + head + encoder + decoder
        return embed + head + self.n_layers * (attn + mlp + 2 * norm) + norm

    # -- FLOPs -----------------------------------------------------------------------------------------
    def layer_flops(self, n_q: int, n_k: int | None = None, causal: bool = False, batch: int = 1) -> dict:
        """:func:`attn_ref.costs.layer_flops` for one (decoder) layer of this model."""
        return layer_flops(n_q, self.d_model, self.n_heads, self.n_kv_heads, self.head_dim, self.d_ff, self.mlp,
                           n_k=n_k, causal=causal, batch=batch)

    def attention_mlp_crossover(self, causal: bool = False) -> float:
        """:func:`attn_ref.costs.attention_mlp_crossover` for this model's layer shape."""
        return attention_mlp_crossover(self.d_model, self.n_heads, self.n_kv_heads, self.head_dim, self.d_ff,
                                       self.mlp, causal)

    def decode_bytes(self, context_len: int, batch: int = 1, bytes_per_elem: int = 2) -> int:
        """Bytes a decode step must read at least once: the weights (n_params · bytes) plus the KV cache of
        ``batch`` sequences at ``context_len`` — divide by a bandwidth for the step's lower bound
        (:func:`attn_ref.costs.decode_time_lower_bound`)."""
        return self.n_params() * bytes_per_elem + self.kv_cache_bytes(context_len, batch, bytes_per_elem)


GPT2_SMALL = ModelConfig(
    "GPT-2 small", n_layers=12, d_model=768, n_heads=12, n_kv_heads=12, head_dim=64, d_ff=3072, vocab=50257,
    context=1024, rope_base=None, window=None, mlp="gelu", norm="layernorm", bias=True, tied_embeddings=True,
    positions="learned",
    source="Radford et al. 2019, 'Language Models are Unsupervised Multitask Learners' (no arXiv id); "
           "HF openai-community/gpt2 config.json (n_layer 12, n_head 12, n_embd 768, n_positions 1024, "
           "vocab_size 50257)",
)
TRANSFORMER_BASE = ModelConfig(
    "Transformer base", n_layers=6, d_model=512, n_heads=8, n_kv_heads=8, head_dim=64, d_ff=2048, vocab=37000,
    context=None, rope_base=None, window=None, mlp="relu", norm="layernorm", bias=True, tied_embeddings=True,
    positions="sinusoidal", encoder_decoder=True,
    source="Vaswani et al. 2017, arXiv:1706.03762, Table 3 'base' (N=6, d_model 512, d_ff 2048, h 8, "
           "d_k = d_v = 64; 65M parameters) and §5.1 (shared source-target BPE vocabulary of about 37000 "
           "tokens, EN-DE); ReLU FFN with biases",
)
LLAMA2_7B = ModelConfig(
    "Llama-2-7B", n_layers=32, d_model=4096, n_heads=32, n_kv_heads=32, head_dim=128, d_ff=11008, vocab=32000,
    context=4096, rope_base=10000.0, window=None,
    source="Touvron et al. 2023, arXiv:2307.09288; HF meta-llama/Llama-2-7b-hf config.json "
           "(intermediate_size 11008, num_key_value_heads 32)",
)
LLAMA2_70B = ModelConfig(
    "Llama-2-70B", n_layers=80, d_model=8192, n_heads=64, n_kv_heads=8, head_dim=128, d_ff=28672, vocab=32000,
    context=4096, rope_base=10000.0, window=None,
    source="Touvron et al. 2023, arXiv:2307.09288 (GQA for 34B/70B); HF meta-llama/Llama-2-70b-hf "
           "config.json (intermediate_size 28672, num_key_value_heads 8)",
)
LLAMA3_8B = ModelConfig(
    "Llama-3-8B", n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, head_dim=128, d_ff=14336, vocab=128256,
    context=8192, rope_base=500000.0, window=None,
    source="Llama Team 2024, arXiv:2407.21783, Table 3; HF meta-llama/Meta-Llama-3-8B config.json "
           "(rope_theta 500000, vocab_size 128256, intermediate_size 14336)",
)
MISTRAL_7B = ModelConfig(
    "Mistral-7B", n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, head_dim=128, d_ff=14336, vocab=32000,
    context=8192, rope_base=10000.0, window=4096,
    source="Jiang et al. 2023, arXiv:2310.06825, Table 1 (dim 4096, n_layers 32, head_dim 128, hidden_dim "
           "14336, n_heads 32, n_kv_heads 8, window_size 4096, context_len 8192, vocab_size 32000)",
)
DEEPSEEK_67B = ModelConfig(
    "DeepSeek LLM 67B", n_layers=95, d_model=8192, n_heads=64, n_kv_heads=8, head_dim=128, d_ff=22016,
    vocab=102400, context=4096, rope_base=10000.0, window=None,
    source="DeepSeek-AI 2024, arXiv:2401.02954, Table 2 (95 layers, d_model 8192, 64 heads, 8 KV heads, "
           "context 4096); HF deepseek-ai/deepseek-llm-67b-base config.json (intermediate_size 22016)",
)
DEEPSEEK_V2_MODEL = ModelConfig(
    "DeepSeek-V2", n_layers=60, d_model=DEEPSEEK_V2.d_model, n_heads=DEEPSEEK_V2.n_heads,
    n_kv_heads=DEEPSEEK_V2.n_heads, head_dim=DEEPSEEK_V2.head_dim, d_ff=12288, vocab=102400, context=163840,
    rope_base=10000.0, window=None, mla=DEEPSEEK_V2, moe=True,
    rope_scaling=RopeScaling("yarn", 40.0, 4096, beta_fast=32.0, beta_slow=1.0, mscale=0.707,
                             mscale_all_dim=0.707),
    source="DeepSeek-AI 2024, arXiv:2405.04434, §2.1 and App. B (60 layers, MLA d_c 512, d_h^R 64, 128 heads); "
           "HF deepseek-ai/DeepSeek-V2 config.json (max_position_embeddings 163840, vocab_size 102400, "
           "intermediate_size 12288 for the dense layer; rope_scaling yarn factor 40, "
           "original_max_position_embeddings 4096, mscale = mscale_all_dim = 0.707); attention = attn_ref.DEEPSEEK_V2",
)

#: The presets by short name.
PRESETS: dict[str, ModelConfig] = {
    "gpt2-small": GPT2_SMALL,
    "transformer-base": TRANSFORMER_BASE,
    "llama-2-7b": LLAMA2_7B,
    "llama-2-70b": LLAMA2_70B,
    "llama-3-8b": LLAMA3_8B,
    "mistral-7b": MISTRAL_7B,
    "deepseek-67b": DEEPSEEK_67B,
    "deepseek-v2": DEEPSEEK_V2_MODEL,
}
