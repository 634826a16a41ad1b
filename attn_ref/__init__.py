"""attn_ref: verified reference implementations of attention in PyTorch.

Layout (B, H, L, D) like torch SDPA; bool masks True = may attend; float masks are additive.
Each public function documents its formula and source (arXiv id). See README, "attn_ref as a library".
"""
__version__ = "0.1.0"

from .trace import Trace, TraceStep  # noqa: F401
from .core import *  # noqa: F401,F403
from .masks import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .multihead import *  # noqa: F401,F403
from .rope import *  # noqa: F401,F403
from .positions import *  # noqa: F401,F403
from .kv_cache import *  # noqa: F401,F403
from .decoder import *  # noqa: F401,F403
from .flash import *  # noqa: F401,F403
from .mla import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .ssm import *  # noqa: F401,F403
from .mamba import *  # noqa: F401,F403
from .differential import *  # noqa: F401,F403
from .moe import *  # noqa: F401,F403
from .costs import *  # noqa: F401,F403
from .presets import *  # noqa: F401,F403
