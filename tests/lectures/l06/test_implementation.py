"""L06.4 Implementation: the code panel is attn_ref's source (line numbers point at the lines), the backward
against autograd through torch's SDPA and the D identity computed here, the Triton kernel's lines read from
its file and the base-2 LSE recomputed with plain floats, the H200 check against the JSON file; E6.6 (wrong
versions fail)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d

from ._helpers import (ROOT, assert_one_topic_section, assert_scene_constructs, example, raw_kernel_check, scores,
                       torch_attention, with_clauses)


def test_forward_code_is_the_source_with_its_formulas():
    f = d.forward_code()
    src = (ROOT / "attn_ref" / "flash.py").read_text().splitlines()
    assert f.file == "attn_ref/flash.py" and len(f.lines) == 20
    for line in f.lines:
        assert src[line.number - 1].strip().startswith(line.code.strip())
        if line.formula:
            assert src[line.number - 1].rstrip().endswith(line.formula)
    assert f.lines[0].code.startswith("for i, (r0, r1) in enumerate(q_blocks):")
    assert "outer loop" in f.lines[0].formula
    formulas = [x.formula for x in f.lines if x.formula]
    assert "m_new = max(m, rowmax S)" in formulas and "O_new = e^{m−m_new} O + P̃ V_j" in formulas
    assert f.lines[-1].code == "    m[..., r0:r1], ell[..., r0:r1] = m_i, l_i"
    assert [x.number for x in f.lines] == list(range(f.lines[0].number, f.lines[0].number + 20))


def test_backward_against_autograd_of_torch_sdpa():
    b = d.backward()
    q, k, v = (t.clone().requires_grad_() for t in example())
    g = torch.Generator().manual_seed(64)
    d_out = torch.round(torch.randn((16, 4), generator=g, dtype=torch.float64), decimals=2)
    out = torch_attention(q, k, v)
    gq, gk, gv = torch.autograd.grad(out, (q, k, v), d_out)
    p = torch.softmax(scores(q.detach(), k.detach()), -1)
    dp = d_out @ v.detach().T
    want = (d_out * out.detach()).sum(-1)
    assert b.d_rowsum == pytest.approx(want.tolist(), abs=1e-14)
    assert b.d_from_p == pytest.approx((p * dp).sum(-1).tolist(), abs=1e-14) and b.d_diff < 1e-14
    assert max(b.dq_diff, b.dk_diff, b.dv_diff) < 1e-14 and b.gradcheck
    import attn_ref as ar
    fq, fk, fv = (t.clone().requires_grad_() for t in example())
    o = ar.flash_attention_autograd(fq[None, None], fk[None, None], fv[None, None], block_q=4, block_k=4)
    hq, hk, hv = torch.autograd.grad(o, (fq, fk, fv), d_out[None, None])
    for a, w in ((hq, gq), (hk, gk), (hv, gv)):
        assert torch.allclose(a, w, atol=1e-13, rtol=0)
    assert b.steps[0] == "D = rowsum(dO ∘ O)" and b.steps[4] == "dS = P ∘ (dP − D_i)" and len(b.steps) == 7
    assert [x.formula for x in b.code if x.formula][1:] == list(b.steps[1:])
    assert "Algorithm 2" in b.source


def test_triton_kernel_lines_and_base_2_lse():
    t = d.triton_kernel()
    text = (ROOT / t.file).read_text()
    for line in (t.grid_line, t.scale_line, t.lse_line):
        assert line in text
    assert t.grid_line == "grid = (triton.cdiv(n_q, bm), B * H)" and "LOG2E" in t.scale_line
    assert t.log2e == pytest.approx(1.4426950408889634, abs=1e-15) and t.stores_natural_log
    q, k, _ = example()
    row = scores(q, k)[t.row].tolist()
    lse = max(row) + math.log(sum(math.exp(x - max(row)) for x in row))
    assert t.lse == pytest.approx(lse, abs=1e-13)
    row2 = [x / math.log(2) for x in row]
    m2 = max(row2)
    assert t.m2 == pytest.approx(m2, abs=1e-13) and t.l2 == pytest.approx(sum(2 ** (x - m2) for x in row2), rel=1e-13)
    assert t.lse2 == pytest.approx(lse / math.log(2), abs=1e-13) and t.lse_from_base2 == pytest.approx(lse, abs=1e-13)
    assert "natural log" in t.note and "(⌈N/BLOCK_M⌉, B·H)" in t.note


def test_triton_check_is_the_file():
    t = d.triton_kernel()
    raw = raw_kernel_check()
    assert t.check_available and t.check_reason == "" and len(t.cases) == len(raw["cases"]) == 12
    for c, r in zip(t.cases, raw["cases"]):
        assert (c.n_q, c.n_k, c.d, c.causal, c.alignment) == (r["n_q"], r["n_k"], r["d"], r["causal"], r["alignment"])
        assert (c.max_err, c.max_lse_err, c.torch_sdpa_err) == (r["max_err_vs_fp64"], r["max_lse_err"],
                                                                r["torch_sdpa_err_vs_fp64"])
        assert c.dtype in ("float16", "bfloat16") and c.max_lse_err < 2e-6
    assert "NVIDIA H200" in t.check_source and "triton 3.6.0" in t.check_source and "gpu_check.py" in t.check_source
    assert any(c.alignment == "lower_right" and c.torch_sdpa_err is None for c in t.cases)


def test_triton_check_missing_is_said(monkeypatch, tmp_path):
    from scenes.l06_flash.data import _shared as sh
    from scenes.l06_flash.data import implementation as im
    monkeypatch.setattr(sh, "KERNEL_CHECK", Path(tmp_path) / "absent.json")
    t = im.triton_kernel.__wrapped__()
    assert not t.check_available and t.cases == () and "not committed" in t.check_reason and t.check_source == ""


def test_pitfalls_cited():
    p = d.pitfalls()
    text = " ".join(f"{x.what} {x.where}" for x in p.items)
    for needle in ("#4541", "#5660", "N_CTX % 128", "block pointers", "bottom-right", "is_causal"):
        assert needle in text


def test_e6_6_holds_and_wrong_versions_fail():
    assert EQUATIONS["flash_backward"].check()
    cl = list(EQUATIONS["flash_backward"].clauses)
    cl[4] = Clause(E.dSm, sp.HadamardProduct(E.Pm, E.dPm))                # without the −D correction
    with pytest.raises(EquationError):
        with_clauses("flash_backward", *cl).check()
    cl = list(EQUATIONS["flash_backward"].clauses)
    cl[5] = Clause(E.dQm, E.dSm * E.Km)                                     # the scale s forgotten
    with pytest.raises(EquationError):
        with_clauses("flash_backward", *cl).check()
    cl = list(EQUATIONS["flash_backward"].clauses)
    cl[0] = Clause(E.dVm, E.Pm * E.dOm)                                     # P instead of Pᵀ
    with pytest.raises(EquationError):
        with_clauses("flash_backward", *cl).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("FlashImplementation")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l06_implementation.py", "L06.4")
