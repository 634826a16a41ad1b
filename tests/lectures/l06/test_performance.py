"""L06.6 Performance: the cited FA3 rows as the plan quotes them, every measured TFLOP/s against the JSON file,
FLOPs recounted as 4·b·h·n²·d (halved when causal), the 2× inflation of a mislabelled causal run; E6.8 (wrong
versions fail)."""
from __future__ import annotations

import math

import pytest

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d
from scenes.l06_flash.data import _shared as sh
from scenes.l06_flash.data import performance as pf

from ._helpers import raw_bench, with_clauses

GPU = raw_bench("gpu-nvidia-h200.json")


def test_fa3_cited_rows_as_the_plan_quotes_them():
    c = d.fa3_cited()
    assert c.seqlens == (512, 1024, 2048, 4096, 8192, 16384) and (c.head_dim, c.causal) == (128, False)
    rows = {r.method: r.tflops for r in c.rows}
    assert rows["Standard"] == (74, 100, 119, 133, 139, None)
    assert rows["FlashAttention-2"] == (309, 350, 362, 368, 370, 370)
    assert rows["Triton"] == (323, 372, 389, 389, 392, 395)
    assert rows["cuDNN"] == (497, 574, 617, 609, 600, 595)
    assert rows["FlashAttention-3"] == (467, 565, 625, 638, 646, 648)
    assert "H100 80GB SXM5" in c.setup and "16K" in c.setup and "2407.08608" in c.source and "H200" in c.note


def test_prefill_is_the_file():
    p = d.prefill_measured()
    recs = [x for x in GPU["records"] if x["suite"] == "prefill"]
    assert p.available and p.device == "NVIDIA H200" and p.dtype == "float16" and p.peak_tflops == 989.4
    assert p.backends_ran == ("cudnn_attention", "efficient_attention", "flash_attention", "math")
    assert [(x.head_dim, x.causal) for x in p.panels] == [(64, False), (64, True), (128, False), (128, True)]
    for panel in p.panels:
        assert panel.seqlens == (512, 1024, 2048, 4096, 8192, 16384) and panel.skipped == ()
        assert panel.heads == 2048 // panel.head_dim
        assert all(b * n == 16384 for b, n in zip(panel.batch, panel.seqlens))
        assert [s.method for s in panel.series] == list(pf.PREFILL_METHODS)
        for s in panel.series:
            for n, tf, ms in zip(panel.seqlens, s.tflops, s.time_ms):
                r = next(x for x in recs if x["method"] == s.method and x["seqlen"] == n
                         and x["head_dim"] == panel.head_dim and x["causal"] == panel.causal)
                assert (tf, ms) == (r["tflops"], r["time_ms"])
                b, h = r["batch"], r["heads"]
                flops = 4 * b * h * n * n * panel.head_dim // (2 if panel.causal else 1)
                assert r["flops"] == flops and tf == pytest.approx(flops / (r["time_ms"] * 1e-3) / 1e12, rel=1e-9)
    assert p.flops_match_convention
    for panel in p.panels:                          # the same series as the file's own figure of that panel
        fig = GPU["figures"][panel.figure]
        assert {x["name"]: tuple(x["y"]) for x in fig["series"]} == {s.method: s.tflops for s in panel.series}
        assert all(tuple(x["x"]) == panel.seqlens for x in fig["series"])
    assert "not recorded" in p.form_factor and "132 SMs" in p.form_factor and "NVL" in p.form_factor
    p128 = p.panels[2]
    by = {s.method: s.tflops for s in p128.series}
    assert p.triton_over_flash_backend == pytest.approx(
        [a / b for a, b in zip(by["triton_fa2"], by["torch_sdpa[flash_attention]"])])
    assert p.triton_share_of_peak == pytest.approx([a / 989.4 for a in by["triton_fa2"]])
    assert round(by["triton_fa2"][-1]) == 463 and round(by["torch_sdpa[cudnn_attention]"][-1]) == 655
    assert "NVIDIA H200" in p.source and GPU["provenance"]["command"] in p.source and "causal" in p.note


def test_flops_convention():
    f = d.flops_convention()
    b, h, n, dd = 4, 16, 4096, 128
    assert f.forward == 4 * b * h * n * n * dd and f.forward_causal == f.forward // 2
    assert (f.backward, f.forward_backward) == (2.5 * f.forward, 3.5 * f.forward)
    r = next(x for x in GPU["records"] if x["suite"] == "prefill" and x["method"] == "triton_fa2" and x["causal"]
             and x["head_dim"] == dd and x["seqlen"] == n)
    assert f.true_causal_tflops == pytest.approx(r["tflops"], rel=1e-9)
    assert f.inflated_causal_tflops == pytest.approx(2 * r["tflops"], rel=1e-9) and "#1849" in f.inflation_source


def test_without_the_result_file_nothing_is_invented(tmp_path, monkeypatch):
    monkeypatch.setattr(sh, "RESULTS_DIR", tmp_path)
    p = pf.prefill_measured.__wrapped__()
    assert not p.available and p.panels == () and "not committed" in p.reason and p.source == ""
    f = pf.flops_convention.__wrapped__()
    assert math.isnan(f.true_causal_tflops) and f.forward == 4 * 4 * 16 * 4096 ** 2 * 128


def test_e6_8_holds_and_wrong_versions_fail():
    assert EQUATIONS["attention_flops_convention"].check()
    c_f, c_c, c_b, c_fb = EQUATIONS["attention_flops_convention"].clauses
    two = Clause(E.F_fwd, E._mul(2, E.b_s, E.h_s, E.n_s ** 2, E.d_s))            # one matmul only
    with pytest.raises(EquationError):
        with_clauses("attention_flops_convention", two, c_c, c_b, c_fb).check()
    bwd2 = Clause(E.F_bwd, E._mul(2, E.F_fwd))                                      # "backward = 2× forward"
    with pytest.raises(EquationError):
        with_clauses("attention_flops_convention", c_f, c_c, bwd2, c_fb).check()
    causal_full = Clause(E.F_causal, E.F_fwd)
    with pytest.raises(EquationError):
        with_clauses("attention_flops_convention", c_f, causal_full, c_b, c_fb).check()


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("PerformanceGains")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l06_performance.py", "L06.6")
