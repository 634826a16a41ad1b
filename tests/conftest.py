import os

import torch

# Determinism and 2-core friendliness for every test.
torch.set_num_threads(min(2, os.cpu_count() or 1))

