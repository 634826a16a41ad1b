"""The benchmark harness: exact FLOP and byte counts, the result schema, the smoke run, the report."""
import json

import pytest
import torch

import attn_ref as ar
from attn_ref.bench import peak_memory, time_fn
from attn_ref.bench.results import SCHEMA, build_figures, chart_data, load_result, source_line, validate
from attn_ref.bench.run import run_benchmarks


def test_flops_follow_the_flashattention_convention_and_the_causal_flag():
    # 4·b·h·n²·d forward: two matmuls of 2·n²·d each per head
    assert ar.attention_flops(2, 3, 5, 5, 7) == 4 * 2 * 3 * 5 * 5 * 7
    assert ar.attention_flops(2, 3, 5, 5, 7, causal=True) * 2 == ar.attention_flops(2, 3, 5, 5, 7)


def test_decode_bytes_are_the_cache_that_is_read(tmp_path):
    res = run_benchmarks(["decode"], "cpu", torch.float32, "smoke", out=tmp_path / "decode.json", command="test")
    recs = [r for r in res["records"] if r["suite"] == "decode" and r["method"] in ("MHA", "GQA-8", "MQA", "MLA")]
    assert len(recs) == 8
    for r in recs:
        per_token = {"MHA": 2 * 4 * 16, "GQA-8": 2 * 1 * 16, "MQA": 2 * 16, "MLA": 512 + 64}[r["method"]] * 4
        assert r["cache_bytes_per_token"] == per_token, r
        assert r["cache_bytes_read"] == per_token * r["context"] * r["batch"]
    sizes = next(r for r in res["records"] if r["method"] == "cache_sizes")
    assert sizes["llama2_7b_kib_per_token"] == 512 and sizes["mistral_7b_kib_per_token"] == 128
    assert sizes["deepseek_v2_mla_elems_per_token_per_layer"] == 576


def test_time_fn_measures_the_callable():
    calls = []
    m = time_fn(lambda: calls.append(1), "cpu", warmup=2, repeats=5)
    assert len(calls) == 7 and m.repeats == 5 and m.min_ms <= m.median_ms <= m.max_ms


def test_cpu_peak_memory_sees_a_large_allocation():
    n = 64 * 2**20  # 64 MiB of float32, touched
    mem = peak_memory(lambda: torch.ones(n // 4), "cpu")
    if mem["peak_extra_bytes"] is None:
        pytest.skip(mem["source"])
    assert mem["peak_extra_bytes"] >= 0.9 * n


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results" / "cpu-smoke.json"
    return run_benchmarks(None, "cpu", torch.float32, "smoke", out=out, command="pytest smoke")


def test_smoke_run_writes_a_valid_result_with_provenance(smoke_result):
    res = load_result(smoke_result["path"])
    assert res["schema"] == SCHEMA
    for key in ("cpu_model", "torch", "date", "command", "commit", "python"):
        assert key in res["provenance"]
    suites = {r["suite"] for r in res["records"]}
    assert {"prefill", "memory", "decode", "generation", "sliding", "linear"} <= suites
    pre = [r for r in res["records"] if r["suite"] == "prefill" and "skipped" not in r]
    assert pre and all(r["tflops"] == pytest.approx(r["flops"] / (r["time_ms"] * 1e-3) / 1e12) for r in pre)
    causal = {(r["method"], r["seqlen"]): r["flops"] for r in pre if r["causal"]}
    full = {(r["method"], r["seqlen"]): r["flops"] for r in pre if not r["causal"]}
    assert all(2 * causal[k] == full[k] for k in causal)
    assert "Measured:" in source_line(res) and res["provenance"]["torch"] in source_line(res)


def test_materialised_memory_grows_faster_than_tiled(smoke_result):
    mem = {(r["method"], r["seqlen"]): r["peak_extra_bytes"] for r in smoke_result["records"]
           if r["suite"] == "memory" and "skipped" not in r}
    # the naive path allocates the n×n scores; at the larger length it needs more than the tiled path
    assert mem[("naive", 1024)] > 4 * mem[("attn_ref.flash_attention", 1024)]
    assert mem[("naive", 1024)] >= 8 * 1024 * 1024 * 4  # at least one 8×1024×1024 float32 score tensor


def test_figures_and_chart_data(smoke_result):
    figs = smoke_result["figures"]
    assert "prefill_d16_full" in figs and "linear_time" in figs
    data = chart_data(smoke_result, "prefill_d16_full")
    assert data["source"].startswith("Measured:") and data["series"]
    with pytest.raises(KeyError, match="available"):
        chart_data(smoke_result, "nope")


def test_validate_names_what_is_wrong():
    with pytest.raises(ValueError, match="provenance"):
        validate({"schema": SCHEMA, "records": [], "figures": {}})
    with pytest.raises(ValueError, match="schema"):
        validate({"schema": "x", "provenance": {}, "records": [], "figures": {}})
    bad = {"schema": SCHEMA, "provenance": {"device": "cpu", "torch": "2", "date": "d", "command": "c"},
           "records": [], "figures": {"f": {"series": [{"name": "a", "x": [1, 2], "y": [1]}]}}}
    with pytest.raises(ValueError, match="differ in length"):
        validate(bad)


def test_build_figures_skips_skipped_records():
    recs = [{"suite": "linear", "method": "a", "seqlen": 1, "time_ms": 1.0},
            {"suite": "linear", "method": "a", "seqlen": 2, "skipped": "OOM"}]
    assert build_figures(recs, "cpu")["linear_time"]["series"] == [{"name": "a", "x": [1], "y": [1.0]}]


def test_committed_cpu_result_is_valid():
    from attn_ref.bench.results import RESULTS_DIR
    files = sorted(RESULTS_DIR.glob("cpu-*.json"))
    assert files, "a CPU result set must be committed (python scripts/bench.py run --device cpu)"
    for f in files:
        res = load_result(f)
        assert res["profile"] == "cpu" and res["figures"]


def test_report_writes_readme_and_charts(smoke_result, tmp_path):
    pytest.importorskip("matplotlib")
    from attn_ref.bench.report import write_report
    readme = write_report(str(tmp_path.__class__(smoke_result["path"]).parent))
    with open(readme) as f:
        text = f.read()
    assert "Measured:" in text and "charts/" in text
    with open(smoke_result["path"]) as f:
        assert json.load(f)["schema"] == SCHEMA


def test_mla_decode_path_is_mqa_over_the_latent():
    from attn_ref.bench.suites import mla_absorbed_decode
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, 1, 24, generator=g, dtype=torch.float64)
    latent = torch.randn(2, 1, 10, 24, generator=g, dtype=torch.float64)
    ref = ar.sdpa(q, latent, latent[..., :16], enable_gqa=True)
    assert torch.allclose(mla_absorbed_decode(q, latent, 16), ref, atol=1e-12)


def test_variants_compare_layers_of_about_equal_size_and_splitk_runs(smoke_result):
    var = [r for r in smoke_result["records"] if r["suite"] == "variants"]
    params = {r["method"]: r["params"] for r in var}
    assert len(params) == 4 and max(params.values()) <= 1.05 * min(params.values())
    assert {r["mode"] for r in var} == {"forward", "forward+backward"}
    split = [r for r in smoke_result["records"] if r["suite"] == "splitk" and "skipped" not in r]
    assert {r["method"] for r in split} >= {"flash_decoding[1 splits]", "flash_decoding[4 splits]"}
    assert "splitk_decode" in smoke_result["figures"]


def test_heads_suite_issues_the_same_work_batched_and_as_a_loop(smoke_result):
    from attn_ref.bench.suites import HEAD_IMPLS, PROFILES, per_head_loop
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 6, 3, generator=g, dtype=torch.float64) for _ in range(3))
    for _, attend in HEAD_IMPLS:  # the loop computes exactly what the one call computes
        assert torch.allclose(per_head_loop(attend, q, k, v), ar.sdpa(q, k, v), atol=1e-12)
    recs = [r for r in smoke_result["records"] if r["suite"] == "heads"]
    p = PROFILES["smoke"]
    methods = {f"{way}[{impl}]" for way in ("batched", "head_loop") for impl, _ in HEAD_IMPLS}
    assert {r["method"] for r in recs} == methods
    assert len(recs) == len(methods) * len(p["heads_counts"]) * len(p["heads_lens"])
    for r in recs:  # fixed width: every head count does the same FLOPs
        assert r["heads"] * r["head_dim"] == p["heads_width"]
        assert r["flops"] == ar.attention_flops(p["heads_batch"], 1, r["seqlen"], r["seqlen"], p["heads_width"])
    assert {f"heads_n{n}" for n in p["heads_lens"]} <= set(smoke_result["figures"])
