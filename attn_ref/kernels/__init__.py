"""Optional GPU kernels. Importing this package never imports Triton; the kernels do, when called.

``triton_flash_attention`` is a FlashAttention-2 forward kernel (Dao 2023, arXiv:2307.08691) in Triton.
It runs on CUDA GPUs, and on the CPU under Triton's interpreter (``TRITON_INTERPRET=1``) for tests.
"""
from .triton_flash import triton_available, triton_flash_attention

__all__ = ["triton_available", "triton_flash_attention"]
