"""attn_ref: verified reference implementations of attention in PyTorch.

Layout (B, H, L, D) like torch SDPA; bool masks True = may attend; float masks are additive.
Each public function documents its formula and source (arXiv id). See README, "attn_ref as a library".
"""
__version__ = "0.1.0"

from .trace import Trace, TraceStep
from .core import *  # noqa: F403
from .masks import *  # noqa: F403
from .sparse import *  # noqa: F403
from .multihead import *  # noqa: F403
from .rope import *  # noqa: F403
from .positions import *  # noqa: F403
from .kv_cache import *  # noqa: F403
from .decoder import *  # noqa: F403
from .flash import *  # noqa: F403
from .mla import *  # noqa: F403
from .linear import *  # noqa: F403
from .ssm import *  # noqa: F403
from .mamba import *  # noqa: F403
from .differential import *  # noqa: F403
from .moe import *  # noqa: F403
from .costs import *  # noqa: F403
from .presets import *  # noqa: F403
from . import (core, costs, decoder, differential, flash, kv_cache, linear, mamba, masks, mla, moe, multihead,
               positions, presets, rope, sparse, ssm)

__all__ = ["Trace", "TraceStep"] + [  # every public name, in import order (tests enumerate it)
    name
    for module in (core, masks, sparse, multihead, rope, positions, kv_cache, decoder, flash, mla, linear,
                   ssm, mamba, differential, moe, costs, presets)
    for name in module.__all__
]
