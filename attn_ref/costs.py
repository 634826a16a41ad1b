"""Cost models: FLOPs of a transformer layer, MLA decode work, roofline bounds, recurrent state sizes.

Counting convention (the one of the FlashAttention papers and of Kaplan et al. 2020, arXiv:2001.08361):
a matrix product (m × k)(k × n) costs 2·m·k·n FLOPs (one multiply and one add per term); softmax, norms,
activations, RoPE, biases and residual additions are not counted. Every count here equals what
``torch.utils.flop_counter.FlopCounterMode`` reports for the matching ``attn_ref`` module (tested).

HBM traffic of FlashAttention-1 vs -2 lives in :func:`attn_ref.flash.attention_io`; KV-cache sizes in
:func:`attn_ref.kv_cache.kv_cache_bytes`, :func:`attn_ref.linear.softmax_kv_cache_elems` and
:func:`attn_ref.mla.mla_cache_elems_per_token`; published model shapes in :mod:`attn_ref.presets`.

Roofline (Williams, Waterman, Patterson 2009, "Roofline: an insightful visual performance model"):
a kernel doing F FLOPs and moving Q bytes has arithmetic intensity I = F/Q; on a device with peak P FLOP/s
and bandwidth W bytes/s it runs at most at min(P, I·W) and takes at least max(F/P, Q/W) seconds. It is
memory-bound when I < P/W (the ridge point).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ._checks import check_choice, check_positive_int
from .mla import MLAConfig
from .multihead import attention_flops

__all__ = [
    "A100_80GB",
    "DEVICES",
    "H100_PCIE",
    "H100_SXM",
    "H200",
    "DeviceSpec",
    "Roofline",
    "arithmetic_intensity",
    "attention_mlp_crossover",
    "causal_attention_flops",
    "decode_time_lower_bound",
    "kv_cache_equivalent_length",
    "kv_token_budget",
    "layer_flops",
    "mamba_state_elems",
    "mla_attention_cost",
    "roofline",
    "score_matrix_bytes",
    "ssd_state_elems",
]

MLP_KINDS = ("swiglu", "gelu", "relu")  # gated (3 matrices) or plain (2 matrices)


def _check_number(name: str, value, minimum: float = 0.0, strict: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if (strict and not value > minimum) or (not strict and not value >= minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------------------------ devices
@dataclass(frozen=True)
class DeviceSpec:
    """An accelerator for roofline arguments: ``peak_flops`` (dense FLOP/s at the stated precision),
    ``bandwidth`` (HBM bytes/s), ``memory_bytes`` (HBM capacity) and the ``source`` of the numbers."""

    name: str
    peak_flops: float
    bandwidth: float
    memory_bytes: float
    source: str

    def __post_init__(self):
        _check_number("peak_flops", self.peak_flops)
        _check_number("bandwidth", self.bandwidth)
        _check_number("memory_bytes", self.memory_bytes)

    @property
    def ridge_point(self) -> float:
        """Arithmetic intensity (FLOP/byte) above which a kernel is compute-bound: peak_flops / bandwidth."""
        return self.peak_flops / self.bandwidth


H100_SXM = DeviceSpec(
    "H100 SXM5 80GB", 989.4e12, 3.35e12, 80e9,
    "NVIDIA H100 Tensor Core GPU datasheet: 989.4 TFLOP/s dense BF16/FP16 (1,979 with 2:4 sparsity), "
    "3.35 TB/s HBM3, 80 GB",
)
H100_PCIE = DeviceSpec(
    "H100 PCIe 80GB", 756e12, 2.0e12, 80e9,
    "NVIDIA H100 Tensor Core GPU datasheet: 756 TFLOP/s dense BF16/FP16, 2.0 TB/s HBM2e, 80 GB",
)
H200 = DeviceSpec(
    "H200 SXM 141GB", 989.4e12, 4.8e12, 141e9,
    "NVIDIA H200 Tensor Core GPU datasheet: same GH100 compute as H100 SXM (989.4 TFLOP/s dense BF16), "
    "4.8 TB/s HBM3e, 141 GB",
)
A100_80GB = DeviceSpec(
    "A100 SXM4 80GB", 312e12, 2.039e12, 80e9,
    "NVIDIA A100 Tensor Core GPU datasheet: 312 TFLOP/s dense BF16/FP16, 2,039 GB/s HBM2e (80GB SXM)",
)
#: The devices above by short name.
DEVICES = {"h100_sxm": H100_SXM, "h100_pcie": H100_PCIE, "h200": H200, "a100_80gb": A100_80GB}


class Roofline(NamedTuple):
    """Result of :func:`roofline`. ``bound`` is ``"memory"`` or ``"compute"``; times are lower bounds in s."""

    flops: float
    bytes: float
    intensity: float  # I = flops / bytes, FLOP/byte
    ridge_point: float  # P / W
    bound: str
    attainable_flops: float  # min(P, I·W), FLOP/s
    compute_time: float  # flops / P
    memory_time: float  # bytes / W
    time: float  # max(compute_time, memory_time)


def arithmetic_intensity(flops: float, nbytes: float) -> float:
    """I = FLOPs / bytes moved (FLOP/byte)."""
    return _check_number("flops", flops, strict=False) / _check_number("nbytes", nbytes)


def _check_device(device) -> DeviceSpec:
    if not isinstance(device, DeviceSpec):
        raise TypeError(f"device must be a DeviceSpec (e.g. attn_ref.H100_SXM), got {type(device).__name__}")
    return device


def roofline(flops: float, nbytes: float, device: DeviceSpec = H100_SXM) -> Roofline:
    """Where a kernel of ``flops`` FLOPs moving ``nbytes`` bytes sits on ``device``'s roofline::

        I = F / Q,   attainable = min(P, I·W),   time ≥ max(F / P, Q / W),   memory-bound iff I < P / W

    (Williams et al. 2009). At I = P/W (the ridge) both times are equal and the kernel is called
    compute-bound.
    """
    dev = _check_device(device)
    intensity = arithmetic_intensity(flops, nbytes)
    compute_time, memory_time = flops / dev.peak_flops, nbytes / dev.bandwidth
    bound = "memory" if intensity < dev.ridge_point else "compute"
    attainable = min(dev.peak_flops, intensity * dev.bandwidth)
    return Roofline(float(flops), float(nbytes), intensity, dev.ridge_point, bound, attainable, compute_time,
                    memory_time, max(compute_time, memory_time))


def decode_time_lower_bound(nbytes: float, device: DeviceSpec = H100_SXM) -> float:
    """Seconds to read ``nbytes`` from HBM once: nbytes / bandwidth — the floor on a memory-bound decode
    step, which must stream the weights and the KV cache (e.g. 2 GiB of Llama-2-7B KV at 4K context:
    ≥ 0.64 ms on an H100 SXM)."""
    return _check_number("nbytes", nbytes, strict=False) / _check_device(device).bandwidth


# ------------------------------------------------------------------------------------------ memory counts
def score_matrix_bytes(batch: int, n_heads: int, n_q: int, n_k: int, bytes_per_elem: int = 2) -> int:
    """Bytes of one materialised score tensor S = QKᵀ/√d (or P = softmax(S)) of a layer::

        bytes(S) = b · h · n_q · n_k · β_elem

    what naive attention writes to memory (FA-1 paper, arXiv:2205.14135, Algorithm 0); a causal mask does
    not shrink the dense tensor. (1, 32, 16K) in fp16: 16 GiB per tensor. Flash attention never forms it.
    """
    for name, value in (("batch", batch), ("n_heads", n_heads), ("n_q", n_q), ("n_k", n_k),
                        ("bytes_per_elem", bytes_per_elem)):
        check_positive_int(name, value)
    return batch * n_heads * n_q * n_k * bytes_per_elem


def kv_token_budget(memory_bytes: float, weight_bytes: float, kv_bytes_per_token: float) -> int:
    """Most tokens whose KV cache fits beside the weights: ⌊(memory − weights) / KV bytes per token⌋.

    An upper bound on the tokens in flight across a batch (activations, the allocator and fragmentation
    take more). Llama-2-7B in fp16 on an 80 GB H100: ⌊(80·10⁹ − 13,476,831,232) / 524,288⌋ = 126,882 tokens.
    Raises ValueError when the weights alone do not fit.
    """
    mem = _check_number("memory_bytes", memory_bytes)
    w = _check_number("weight_bytes", weight_bytes, strict=False)
    per = _check_number("kv_bytes_per_token", kv_bytes_per_token)
    if w > mem:
        raise ValueError(f"the weights ({w:.4g} B) do not fit in memory_bytes ({mem:.4g} B)")
    return int((mem - w) // per)


# ------------------------------------------------------------------------------------------- layer FLOPs
def _layer_shape(d_model, n_heads, n_kv_heads, head_dim, d_ff, mlp):
    check_positive_int("d_model", d_model)
    check_positive_int("n_heads", n_heads)
    n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
    check_positive_int("n_kv_heads", n_kv_heads)
    if n_heads % n_kv_heads:
        raise ValueError(f"n_heads ({n_heads}) must be divisible by n_kv_heads ({n_kv_heads})")
    if head_dim is None:
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads}) unless head_dim "
                             f"is given")
        head_dim = d_model // n_heads
    check_positive_int("head_dim", head_dim)
    d_ff = 4 * d_model if d_ff is None else d_ff
    check_positive_int("d_ff", d_ff)
    check_choice("mlp", mlp, MLP_KINDS)
    return n_kv_heads, head_dim, d_ff


def layer_flops(n_q: int, d_model: int, n_heads: int, n_kv_heads: int | None = None, head_dim: int | None = None,
                d_ff: int | None = None, mlp: str = "swiglu", n_k: int | None = None, causal: bool = False,
                batch: int = 1) -> dict[str, int]:
    """Forward FLOPs of one transformer block over ``n_q`` new tokens attending to ``n_k`` keys (default n_q).

    With d = d_model, H query heads, H_kv KV heads (GQA, arXiv:2305.13245) of size d_h, MLP width d_ff::

        q = 2·n_q·d·H·d_h      k = v = 2·n_q·d·H_kv·d_h      o = 2·n_q·H·d_h·d
        attention = 4·n_q·n_k·H·d_h   (QKᵀ and PV; halved when causal — :func:`attn_ref.attention_flops`)
        mlp = 2·n_q·3·d·d_ff  ("swiglu": gate, up, down — Shazeer 2020, arXiv:2002.05202; Llama)
              2·n_q·2·d·d_ff  ("gelu" or "relu": up, down — GPT-2, Vaswani et al.'s FFN; any 2-matrix MLP)

    All times ``batch``. Returns a dict with those entries plus ``"dense"`` (everything but the attention
    core: 2 FLOPs per parameter per token) and ``"total"``. A decode step is ``n_q = 1, n_k = context``.
    """
    check_positive_int("n_q", n_q)
    n_k = n_q if n_k is None else n_k
    check_positive_int("n_k", n_k)
    check_positive_int("batch", batch)
    h_kv, hd, d_ff = _layer_shape(d_model, n_heads, n_kv_heads, head_dim, d_ff, mlp)
    tokens = batch * n_q
    out = {
        "q": 2 * tokens * d_model * n_heads * hd,
        "k": 2 * tokens * d_model * h_kv * hd,
        "v": 2 * tokens * d_model * h_kv * hd,
        "o": 2 * tokens * n_heads * hd * d_model,
        "attention": attention_flops(batch, n_heads, n_q, n_k, hd, causal=causal),
        "mlp": 2 * tokens * (3 if mlp == "swiglu" else 2) * d_model * d_ff,
    }
    out["dense"] = out["q"] + out["k"] + out["v"] + out["o"] + out["mlp"]
    out["total"] = out["dense"] + out["attention"]
    return out


def causal_attention_flops(n_q: int, n_k: int, head_dim: int, n_heads: int = 1, batch: int = 1) -> int:
    """Exact FLOPs of the attention core under a lower-right causal mask, counting only the allowed
    (query, key) pairs — the work a causal kernel (or decoding with a KV cache) has to do::

        pairs = Σ_{i=0}^{n_q−1} (n_k − n_q + i + 1) = n_q·(n_k − n_q) + n_q(n_q + 1)/2
        FLOPs = 4 · d_h · pairs · H · B          (2·d_h for q·k, 2·d_h for p·v, per allowed pair)

    Query i sits at absolute position n_k − n_q + i and sees keys j ≤ that position
    (:func:`attn_ref.masks.causal_mask` ``"lower_right"``). A prefill of t tokens (n_q = n_k = t) costs
    2·d_h·t(t + 1) per head; one decode step against t keys (n_q = 1, n_k = t) costs 4·d_h·t. Unlike
    :func:`attn_ref.attention_flops` (FlashAttention's convention: half the full matrix, diagonal ignored)
    the diagonal is counted exactly. Softmax, scaling and projections are not counted.
    """
    for name, value in (("n_q", n_q), ("n_k", n_k), ("head_dim", head_dim), ("n_heads", n_heads),
                        ("batch", batch)):
        check_positive_int(name, value)
    if n_q > n_k:
        raise ValueError(f"n_q must be <= n_k for a lower-right causal mask (queries are the newest keys), "
                         f"got n_q={n_q}, n_k={n_k}")
    pairs = n_q * (n_k - n_q) + n_q * (n_q + 1) // 2
    return 4 * head_dim * pairs * n_heads * batch


def attention_mlp_crossover(d_model: int, n_heads: int, n_kv_heads: int | None = None,
                            head_dim: int | None = None, d_ff: int | None = None, mlp: str = "swiglu",
                            causal: bool = False) -> float:
    """Sequence length n* at which the attention core costs as many FLOPs as the rest of the layer.

    For a prefill of n tokens, attention = 4·n²·H·d_h (× ½ causal) and the rest = 2·n·P_layer with P_layer
    the parameters of the Q/K/V/O projections and the MLP, so

        n* = 2·P_layer / (4·H·d_h)       (non-causal),     n* = P_layer / (H·d_h)     (causal)

    — equivalently, per token: attention 4·n·H·d_h (or 2·n·H·d_h on average, causal) vs 2·P_layer.
    Llama-2-7B (P_layer = 202,375,168, H·d_h = 4096): n* ≈ 24,704 non-causal, ≈ 49,408 causal.
    """
    h_kv, hd, ff = _layer_shape(d_model, n_heads, n_kv_heads, head_dim, d_ff, mlp)
    dense_per_token = layer_flops(1, d_model, n_heads, h_kv, hd, ff, mlp)["dense"]  # 2·P_layer
    per_key = 4 * n_heads * hd / (2 if causal else 1)  # attention FLOPs per token per key
    return dense_per_token / per_key


# ---------------------------------------------------------------------------------------------------- MLA
def mla_attention_cost(config: MLAConfig, n_k: int, n_q: int = 1, mode: str = "absorbed", batch: int = 1,
                       bytes_per_elem: int = 2, causal: bool = False) -> dict[str, float]:
    """FLOPs and cache bytes of one MLA layer (DeepSeek-V2, arXiv:2405.04434) for ``n_q`` new tokens
    attending to ``n_k`` cached keys (the new ones included). A decoded token is ``n_q = 1, n_k = context``.

    With n_h heads, d_h (nope), d_h^R (rope), d_v, latent d_c, query latent d'_c, c = ½ if causal else 1:

    * ``"projections"`` (every mode): W^{DQ}, W^{UQ}, W^{QR} (2·n_q·(d·d'_c + d'_c·n_h·(d_h + d_h^R)), or
      2·n_q·d·n_h·(d_h + d_h^R) without query compression), W^{DKV}, W^{KR} (2·n_q·d·(d_c + d_h^R)),
      W^O (2·n_q·n_h·d_v·d);
    * ``"naive"`` (:class:`MultiHeadLatentAttention` ``mode="naive"`` over an :class:`MLACache`): up-project
      the whole latent cache every call, ``kv_up`` = 2·n_k·d_c·n_h·(d_h + d_v); ``scores`` =
      2·c·n_q·n_k·n_h·(d_h + d_h^R); ``values`` = 2·c·n_q·n_k·n_h·d_v;
    * ``"expanded"`` (per-head K/V cached, as DeepSeek-V3 ``attn_impl="naive"`` and HF): ``kv_up`` only for
      the n_q new tokens; ``scores`` and ``values`` as naive — but the cache read is per head;
    * ``"absorbed"`` (``mode="absorbed"``, DeepSeek-V3 ``attn_impl="absorb"``): ``q_absorb`` = 2·n_q·n_h·d_h·d_c;
      ``scores`` = 2·c·n_q·n_k·n_h·(d_c + d_h^R); ``values`` = 2·c·n_q·n_k·n_h·d_c; ``o_up`` = 2·n_q·n_h·d_c·d_v.

    Returns those entries (times ``batch``) with ``"attention"`` (all but the projections), ``"total"``,
    ``"cache_elems"`` read (n_k·(d_c + d_h^R) for the latent modes, n_k·n_h·(d_h + d_h^R + d_v) expanded),
    ``"cache_bytes"`` and ``"intensity"`` = (scores + values) / cache_bytes, the FLOPs per byte of cache read:
    for DeepSeek-V2 absorbed, n_h·(2·576 + 2·512) / (2·576) ≈ 241.8 FLOP/B in bf16 — 278,528 FLOPs per cached
    token — near the H100 ridge (≈ 295), while expanded (MHA-like) decode sits at ≈ 1 FLOP/B.
    """
    if not isinstance(config, MLAConfig):
        raise TypeError(f"config must be an MLAConfig, got {type(config).__name__}")
    check_positive_int("n_k", n_k)
    check_positive_int("n_q", n_q)
    check_positive_int("batch", batch)
    check_positive_int("bytes_per_elem", bytes_per_elem)
    check_choice("mode", mode, ("naive", "expanded", "absorbed"))
    c = config
    d, n_h, d_h, d_r, d_v, d_c = c.d_model, c.n_heads, c.head_dim, c.rope_head_dim, c.v_dim, c.kv_lora_rank
    if c.q_lora_rank is None:
        q_proj = 2 * n_q * d * n_h * (d_h + d_r)
    else:
        q_proj = 2 * n_q * (d * c.q_lora_rank + c.q_lora_rank * n_h * (d_h + d_r))
    out = {"projections": q_proj + 2 * n_q * d * (d_c + d_r) + 2 * n_q * n_h * d_v * d}
    half = 2 if causal else 1  # the causal convention counts half the (query, key) pairs
    if mode in ("naive", "expanded"):
        up_tokens = n_k if mode == "naive" else n_q
        out["kv_up"] = 2 * up_tokens * d_c * n_h * (d_h + d_v)  # k^C = W^{UK} c, v^C = W^{UV} c
        out["scores"] = 2 * n_q * n_k * n_h * (d_h + d_r) // half  # [q^C; q^R]ᵀ [k^C; k^R]
        out["values"] = 2 * n_q * n_k * n_h * d_v // half  # P V
        attention = out["kv_up"] + out["scores"] + out["values"]
    else:
        out["q_absorb"] = 2 * n_q * n_h * d_h * d_c  # q̂ = W^{UK}ᵀ q^C
        out["scores"] = 2 * n_q * n_k * n_h * (d_c + d_r) // half  # [q̂; q^R]ᵀ [c; k^R]
        out["values"] = 2 * n_q * n_k * n_h * d_c // half  # P C
        out["o_up"] = 2 * n_q * n_h * d_c * d_v  # W^{UV} (P C)
        attention = out["q_absorb"] + out["scores"] + out["values"] + out["o_up"]
    out["attention"] = attention
    out["total"] = attention + out["projections"]
    out = {k: v * batch for k, v in out.items()}
    per_key = n_h * (d_h + d_r + d_v) if mode == "expanded" else d_c + d_r
    out["cache_elems"] = batch * n_k * per_key
    out["cache_bytes"] = out["cache_elems"] * bytes_per_elem
    out["intensity"] = (out["scores"] + out["values"]) / out["cache_bytes"]
    return out


# ------------------------------------------------------------------------------------ recurrent state sizes
def mamba_state_elems(d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2) -> int:
    """Decoding state of one Mamba block per sequence (Gu & Dao, arXiv:2312.00752), length-independent::

        d_inner · N  (SSM state h)  +  d_inner · (d_conv − 1)  (the last inputs of the causal conv),
        d_inner = expand · d_model

    :class:`attn_ref.MambaBlock` (like ``mamba_ssm``) stores d_conv conv inputs, one more than needed: the
    oldest is shifted out before it is used.
    """
    for name, value in (("d_model", d_model), ("d_state", d_state), ("d_conv", d_conv), ("expand", expand)):
        check_positive_int(name, value)
    d_inner = expand * d_model
    return d_inner * d_state + d_inner * (d_conv - 1)


def ssd_state_elems(n_heads: int, head_dim: int, d_state: int) -> int:
    """SSD (Mamba-2, arXiv:2405.21060) state per sequence and layer: n_heads · head_dim · d_state — the
    (H, P, N) state of :func:`attn_ref.ssd` (the short convolution's inputs not included)."""
    for name, value in (("n_heads", n_heads), ("head_dim", head_dim), ("d_state", d_state)):
        check_positive_int(name, value)
    return n_heads * head_dim * d_state


def kv_cache_equivalent_length(state_elems: int, n_kv_heads: int, head_dim: int) -> float:
    """Context length at which a softmax-attention KV cache (2 · n_kv_heads · head_dim elements per token
    per layer) holds as many elements as a fixed recurrent state of ``state_elems``:
    n = state_elems / (2 · n_kv_heads · head_dim). Linear attention with d_k = d_v = d_h has a state of
    H(d_h² + d_h) (:func:`attn_ref.linear_attention_state_elems`), so its KV-equivalent length is (d_h + 1)/2.
    """
    check_positive_int("state_elems", state_elems)
    check_positive_int("n_kv_heads", n_kv_heads)
    check_positive_int("head_dim", head_dim)
    return state_elems / (2 * n_kv_heads * head_dim)
