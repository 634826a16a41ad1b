"""Where a benchmark figure came from: machine, versions, date, command, commit."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys

import torch

# Published peaks used for "share of peak" figures (NVIDIA datasheets; dense 16-bit tensor FLOP/s).
DEVICE_PEAKS = {
    "H100 SXM": {"bandwidth_gbs": 3350.0, "fp16_tflops": 989.4},
    "H100 80GB HBM3": {"bandwidth_gbs": 3350.0, "fp16_tflops": 989.4},
    "H100 PCIe": {"bandwidth_gbs": 2000.0, "fp16_tflops": 756.0},
    "H200": {"bandwidth_gbs": 4800.0, "fp16_tflops": 989.4},
    "A100-SXM4-80GB": {"bandwidth_gbs": 2039.0, "fp16_tflops": 312.0},
}


def device_peaks(device_name: str) -> dict | None:
    """The datasheet peaks of a GPU by (a substring of) its name, or None when unknown."""
    for key, peaks in DEVICE_PEAKS.items():
        if key in device_name:
            return dict(peaks, matched=key)
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    if os.environ.get("ATTN_REF_COMMIT"):  # set when the tree was copied without its .git (a remote run)
        return os.environ["ATTN_REF_COMMIT"]
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: str | torch.device = "cpu", command: str | None = None) -> dict:
    """Everything a slide needs to cite a measurement: device, CPU/GPU model, driver, CUDA, torch,
    triton, Python, threads, date (UTC), command line and git commit."""
    device = torch.device(device)
    info = {
        "device": device.type,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        # other work on the machine skews CPU timings: the 1-minute load average when the run started
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command if command is not None else " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
        "commit": _git_commit(),
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu_model=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    sm_count=props.multi_processor_count, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
        try:
            drv = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            info["driver"] = drv.stdout.strip().splitlines()[0] if drv.returncode == 0 else None
        except (OSError, subprocess.SubprocessError, IndexError):
            info["driver"] = None
        info["peaks"] = device_peaks(props.name)
    return info


def machine_slug(info: dict) -> str:
    """A file-name-safe name for the machine a result came from, e.g. ``gpu-nvidia-h200``."""
    name = info.get("gpu_model") if info.get("device") == "cuda" else info.get("cpu_model", "cpu")
    slug = "".join(c.lower() if c.isalnum() else "-" for c in str(name))
    while "--" in slug:
        slug = slug.replace("--", "-")
    return ("gpu-" if info.get("device") == "cuda" else "cpu-") + slug.strip("-")[:40]
