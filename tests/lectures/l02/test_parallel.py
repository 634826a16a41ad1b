"""L02.7 Parallel computation: heads as a batch axis, the benchmark reader (never an invented number) and
tensor parallelism against torch's module."""
from __future__ import annotations

import json

import torch

from scenes.kit.tensors import gaussian
from scenes.l02_multihead import data as d
from scenes.l02_multihead.data import parallel as par

from ._helpers import T, assert_one_topic_section, assert_scene_constructs, torch_attend, torch_mha


def test_heads_are_a_batch_axis_with_the_same_flops():
    b = d.batched_heads()
    assert b.problems == b.batch * b.n_heads == 16 and b.batched_shape == (16, b.n, b.head_dim)
    assert b.max_diff_loop_vs_batched < 1e-12
    assert b.flops_batched == b.flops_loop == 4 * b.batch * b.n_heads * b.n ** 2 * b.head_dim


def test_timing_is_only_read_from_committed_results():
    t = d.head_loop_timing()
    files = sorted(p.name for p in par.RESULTS_DIR.glob("*.json"))
    has = any(r.get("suite") == par.HEAD_LOOP_SUITE for f in files
              for r in json.loads((par.RESULTS_DIR / f).read_text()).get("records", []))
    assert t.files == tuple(files) and t.available == has
    assert (t.rows == ()) == (not has) and (bool(t.reason) == (not has))


def test_timing_reader_reads_heads_records(tmp_path, monkeypatch):
    rec = {"suite": "heads", "method": "head_loop", "dtype": "float32", "heads": 8, "seqlen": 256, "head_dim": 64,
           "time_ms": 3.5}
    result = {"schema": "attn_ref.bench/1", "profile": "cpu", "dtype": "float32", "records": [rec], "figures": {},
              "provenance": {"cpu_model": "test CPU", "device": "cpu", "torch": "2.x", "date": "2026-01-01",
                             "commit": "abcdef0123"}}
    (tmp_path / "cpu-test.json").write_text(json.dumps(result))
    monkeypatch.setattr(par, "RESULTS_DIR", tmp_path)
    t = par.head_loop_timing.__wrapped__()
    assert t.available and t.rows == (("cpu-test.json", "head_loop", 8, 256, 64, 3.5),)
    assert "test CPU" in t.sources[0]


def test_tensor_parallel_partials_all_reduce_to_torchs_output():
    tp = d.tensor_parallel()
    s = par.TP_SHAPE
    w = gaussian((4, s["d_model"], s["d_model"]), s["seed"], 0.5)
    x = gaussian((1, s["seq"], s["d_model"]), s["seed"] + 1)[0]
    out, _ = torch_attend(torch_mha(*w, s["n_heads"]), x)
    assert torch.allclose(T(tp.full), out, atol=1e-12, rtol=0)
    assert torch.allclose(T(tp.all_reduce), out, atol=1e-12, rtol=0) and tp.max_diff < 1e-12
    assert all(float((T(p) - out).abs().max()) > 0.1 for p in tp.partials)  # no device has the answer alone
    assert sorted(h for hs in tp.heads_per_device for h in hs) == list(range(tp.n_heads))
    assert tp.qkv_columns == ((0, 4), (4, 8)) and tp.o_rows == tp.qkv_columns
    assert tp.params_per_device * tp.devices == tp.params_total == 4 * tp.d_model ** 2
    assert tp.all_reduce_numbers == s["seq"] * s["d_model"]


def test_partials_are_each_devices_heads_through_its_rows_of_w_o():
    tp, s = d.tensor_parallel(), par.TP_SHAPE
    w = gaussian((4, s["d_model"], s["d_model"]), s["seed"], 0.5)
    x = gaussian((1, s["seq"], s["d_model"]), s["seed"] + 1)[0]
    for (a, b), partial in zip(tp.qkv_columns, tp.partials):
        heads = []
        for h in range(a // 2, b // 2):
            q, k, v = (x @ m[:, 2 * h:2 * h + 2] for m in w[:3])
            heads.append(torch.softmax(q @ k.T / 2 ** 0.5, -1) @ v)
        assert torch.allclose(T(partial), torch.cat(heads, 1) @ w[3][a:b], atol=1e-12, rtol=0)



def test_the_example_row_adds_up_as_shown():
    tp = d.tensor_parallel()
    i = tp.example_row
    for j in range(tp.d_model):
        parts = [round(float(f"{p[i][j]:.2f}") * 100) for p in tp.partials]
        assert sum(parts) == round(float(f"{tp.all_reduce[i][j]:.2f}") * 100)
        assert f"{tp.all_reduce[i][j]:.2f}" == f"{tp.full[i][j]:.2f}"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("ParallelHeads")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_parallel.py", "L02.7")


def test_the_chart_is_the_fused_rows_of_one_file_at_one_length():
    t = d.head_loop_timing()
    if not t.available:
        assert t.chart_heads == ()
        return
    raw = json.loads((par.RESULTS_DIR / t.chart_file).read_text())
    recs = {(r["method"], r["heads"]): r for r in raw["records"]
            if r.get("suite") == "heads" and r["seqlen"] == t.chart_seqlen}
    assert t.chart_impl == "torch_sdpa" and t.chart_device == raw["provenance"]["device"].replace("cuda", "gpu").upper()
    assert t.chart_seqlen == min(r["seqlen"] for r in raw["records"] if r.get("suite") == "heads")
    for h, w, b, lp, s in zip(t.chart_heads, t.chart_head_dims, t.chart_batched_ms, t.chart_loop_ms, t.chart_speedup):
        assert recs[("batched[torch_sdpa]", h)]["time_ms"] == b and recs[("head_loop[torch_sdpa]", h)]["time_ms"] == lp
        assert h * w == t.chart_heads[0] * t.chart_head_dims[0] and s == lp / b
    assert t.chart_source in t.sources
