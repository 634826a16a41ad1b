import os

import torch

# Determinism and 2-core friendliness for every test.
torch.set_num_threads(min(2, os.cpu_count() or 1))


def load_script(path, name: str):
    """A script under scripts/ imported as a module (its ``main(argv)`` callable in-process)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_main(mod, capsys, *argv):
    """(exit code, stderr) of ``mod.main(argv)``; argparse errors exit through SystemExit."""
    try:
        code = mod.main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err
