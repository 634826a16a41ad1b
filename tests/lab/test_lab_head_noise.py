"""head_specialisation (score by period/offset, control curve, phase-change step) and attention_noise (largest
pre-softmax attention logit per layer): the recomputed logits reproduce the model's own maps, the probe leaves
training untouched, the tables have their documented shape, and the committed files carry the numbers
docs/lab.md quotes."""
import pytest
import torch

from attn_ref.lab import ModelConfig, TinyTransformer, experiment_config, load_result, make_task
from attn_ref.lab.experiments._common import _eval_batch
from attn_ref.lab.experiments.attention_noise import _max_logits, attention_logits
from attn_ref.lab.experiments.head_specialisation import _breakdown, _phase_change
from attn_ref.lab.tasks import RepeatedSequences
from attn_ref.lab.trainer import TrainConfig, train

# The numbers docs/lab.md (sections 1 and 3) quotes from the committed result files.
DOC = {
    # head_specialisation
    "phase_change_step": 210, "crossings": {"0.2": 170, "0.5": 210, "0.8": 230}, "before": 0.37, "at": 0.55,
    "min_score_by_period_offset": 0.93, "max_control_by_period_offset": 0.05, "max_control_curve": 0.16,
    # attention_noise: largest logit per layer (layer 0, layer 1) at step 0 and step 800, peak over training
    "logit_start": {"standard": [1.7, 2.2], "A1": [1.7, 1.9], "A2": [1.5, 1.7]},
    "logit_end": {"standard": [17.6, 16.5], "A1": [12.2, 12.0], "A2": [7.2, 16.5]},
    "logit_peak": {"standard": (27.4, 250, 0), "A1": (14.9, 400, 1), "A2": (17.4, 400, 1)},
    "lambda_start": [0.13, 0.40], "lambda_end": [0.58, 0.93],
}

# ------------------------------------------------------------------ attention logits (attention_noise)

LOGIT_KINDS = [
    dict(attention="mha", positions="rope", rope_pairing="interleaved"),
    dict(attention="mha", positions="rope", rope_pairing="half"),
    dict(attention="mha", positions="nope"),
    dict(attention="gqa", positions="rope", n_kv_heads=2),
    dict(attention="diff", positions="rope", n_heads=2, rope_pairing="interleaved"),
    dict(attention="diff", positions="nope", n_heads=2),
]


def _sharp_model(**kw):
    """A small model with q/k weights scaled up so the maps are far from uniform (logits up to ~20)."""
    torch.manual_seed(0)
    cfg = dict(vocab_size=40, d_model=64, n_layers=2, n_heads=4, d_ff=32, token_shift=True)
    cfg.update(kw)
    m = TinyTransformer(ModelConfig(**cfg)).eval()
    with torch.no_grad():
        for b in m.blocks:
            b.attn.q_proj.weight.mul_(4)
            b.attn.k_proj.weight.mul_(4)
    return m


def _model_maps(out, layer):
    """The model's own softmax maps: [map] for mha/gqa, [A1, A2] for diff."""
    aux = out.aux[layer]
    return [aux["attn1"], aux["attn2"]] if "attn1" in aux else [out.maps[layer]]


@pytest.mark.parametrize("kw", LOGIT_KINDS, ids=lambda k: f"{k['attention']}-{k['positions']}-"
                                                      f"{k.get('rope_pairing', '')}")
def test_recomputed_logits_reproduce_the_models_attention_maps(kw):
    m = _sharp_model(**kw)
    x = torch.randint(0, 40, (3, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = m(x, return_maps=True)
    logits = attention_logits(m, x)
    assert len(logits) == 2
    peak = 0.0
    for layer, lg in enumerate(logits):
        mine = [lg["logits1"], lg["logits2"]] if "logits1" in lg else [lg["logits"]]
        for s, ref in zip(mine, _model_maps(out, layer), strict=True):
            assert s.shape == ref.shape == (3, m.blocks[layer].attn.n_heads, 24, 24)
            assert torch.isneginf(s[..., torch.ones(24, 24, dtype=torch.bool).triu(1)]).all()      # causal mask
            assert (torch.softmax(s, -1) - ref).abs().max() < 1e-6
            peak = max(peak, float(s.max()))
    assert peak > 5                                    # the check is not on near-uniform maps
    # the per-layer maxima are the maxima of the unmasked logits
    mx = _max_logits(logits)
    for name, key in (("max_logit", "logits"), ("max_logit_A1", "logits1"), ("max_logit_A2", "logits2")):
        if key in logits[0]:
            assert mx[name] == [float(lg[key].max()) for lg in logits]
            assert [max(r) for r in mx[f"{name}_by_head"]] == mx[name]


def test_logit_check_is_sensitive_to_rope():
    """The reproduction test would catch a wrong RoPE: logits recomputed without the rotation do not give the maps."""
    m = _sharp_model(attention="mha", positions="rope", rope_pairing="interleaved")
    x = torch.randint(0, 40, (2, 24), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = m(x, return_maps=True).maps[0]
    for b in m.blocks:
        b.attn.rope = None
    assert (torch.softmax(attention_logits(m, x)[0]["logits"], -1) - ref).abs().max() > 1e-2


def test_attention_logits_refuses_alibi():
    m = _sharp_model(attention="mha", positions="alibi")
    with pytest.raises(ValueError, match="positions"):
        attention_logits(m, torch.zeros(1, 4, dtype=torch.long))


def test_logit_probe_does_not_change_training():
    """The probe runs on a fixed batch drawn from its own generator: weights and losses are identical."""
    cfg = experiment_config("attention_noise", quick=True)
    task = make_task(cfg["task"])
    tc = TrainConfig(**dict(cfg["train"], steps=6, log_every=2))
    tokens = _eval_batch(task, 4, cfg["eval"]["logit_probe_seed"]).tokens
    for key in ("model_standard", "model_differential"):
        mc = ModelConfig(**cfg[key])
        plain = train(mc, task, tc, progress=False, threads=1)
        probed = train(mc, task, tc, progress=False, threads=1,
                       probe=lambda model, step: {k: v for k, v in _max_logits(attention_logits(model, tokens)).items()
                                                  if not k.endswith("by_head")})
        assert [h["loss"] for h in plain.history] == [h["loss"] for h in probed.history]
        for (n, a), (_, b) in zip(plain.model.state_dict().items(), probed.model.state_dict().items(), strict=True):
            assert torch.equal(a, b), n
        assert len(probed.history[-1]["max_logit" if mc.attention == "mha" else "max_logit_A1"]) == mc.n_layers


# ------------------------------------------------------------------ head_specialisation tables

def _perfect_induction_maps(period, start, L):
    """Maps (B, L, L) attending from every token of the second copy to the token after its earlier occurrence."""
    B = period.shape[0]
    w = torch.zeros(B, L, L)
    w[:, torch.arange(L), torch.arange(L)] = 1.0
    for b in range(B):
        p, a = int(period[b]), int(start[b])
        for i in range(a + p, L):
            w[b, i] = 0
            w[b, i, i - p + 1] = 1.0
    return w


def test_breakdown_by_period_and_offset():
    task = RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8)
    ev = task.sample(200, torch.Generator().manual_seed(3))
    period, start = ev.info["period"], ev.info["start"]
    w = _perfect_induction_maps(period, start, 32)
    for by, values in (("period", list(range(4, 13))), ("offset", list(range(0, 9)))):
        t = _breakdown(w, period, start, by)
        assert t[by] == values
        assert sum(t["n"]) == 200 and all(n > 0 for n in t["n"])
        assert len(t["induction"]) == len(t["control"]) == len(values)
        assert t["induction"] == pytest.approx([1.0] * len(values))
        assert t["control"] == pytest.approx([0.0] * len(values))
    # a fixed-distance head (always 5 back) scores only on the period it happens to match
    fixed = torch.zeros(200, 32, 32)
    idx = torch.arange(32)
    fixed[:, idx, (idx - 5).clamp(min=0)] = 1.0
    t = _breakdown(fixed, period, start, "period")
    assert t["induction"][t["period"].index(6)] == pytest.approx(1.0)
    assert max(s for p, s in zip(t["period"], t["induction"]) if p != 6) == 0.0


def test_phase_change_is_the_first_logged_step_at_or_above_one_half():
    curve = [{"step": s, "induction": [[0.1, v], [0.05, 0.0]]}
             for s, v in ((0, 0.1), (10, 0.3), (20, 0.49), (30, 0.7), (40, 0.9), (50, 0.4))]
    pc = _phase_change(curve)
    assert pc["step"] == 30 and pc["previous_logged_step"] == 20
    assert pc["best_induction_before"] == 0.49 and pc["best_induction_at"] == 0.7
    assert pc["first_step_at_or_above"] == {"0.2": 10, "0.5": 30, "0.8": 40}
    assert _phase_change(curve[:2])["step"] is None


# ------------------------------------------------------------------ the committed files carry the documented numbers

def test_committed_head_specialisation_tables_and_phase_change():
    m = load_result("head_specialisation")["metrics"]
    steps = [e["step"] for e in m["score_curve"]]
    assert steps == list(range(0, 801, 10))                              # logged every 10 steps
    for e in m["score_curve"]:
        assert len(e["induction_control"]) == 2 and len(e["induction_control"][0]) == 4
    best = m["best_induction_head"]
    for by, values in (("period", list(range(4, 13))), ("offset", list(range(0, 9)))):
        t = m[f"induction_by_{by}"]
        assert (t["layer"], t["head"]) == (best["layer"], best["head"])
        assert t[by] == values and sum(t["n"]) == 256
        assert min(t["induction"]) > DOC["min_score_by_period_offset"]
        assert max(t["control"]) < DOC["max_control_by_period_offset"]
    pc = m["phase_change"]
    assert pc["step"] == DOC["phase_change_step"]
    assert pc["first_step_at_or_above"] == DOC["crossings"]
    assert round(pc["best_induction_before"], 2) == DOC["before"] and round(pc["best_induction_at"], 2) == DOC["at"]
    assert max(max(max(r) for r in e["induction_control"]) for e in m["score_curve"]) < DOC["max_control_curve"]


def test_committed_attention_noise_logit_curves():
    res = load_result("attention_noise")
    models = res["metrics"]["models"]
    n_logged = 800 // 50 + 1
    std, dif = models["standard"], models["differential"]
    assert [s for s, _ in std["max_logit_curve"]] == [s for s, _ in dif["lambda_curve"]]
    for curve in (std["max_logit_curve"], dif["max_logit_A1_curve"], dif["max_logit_A2_curve"]):
        assert len(curve) == n_logged and all(len(v) == 2 for _, v in curve)
    for name, curve in (("standard", std["max_logit_curve"]), ("A1", dif["max_logit_A1_curve"]),
                        ("A2", dif["max_logit_A2_curve"])):
        assert [round(x, 1) for x in curve[0][1]] == DOC["logit_start"][name]
        assert [round(x, 1) for x in curve[-1][1]] == DOC["logit_end"][name]
        peak, step, layer = max((v, s, layer) for s, vs in curve for layer, v in enumerate(vs))
        assert (round(peak, 1), step, layer) == DOC["logit_peak"][name]
    assert [max(r) for r in std["max_logit_by_head"]] == std["max_logit_curve"][-1][1]
    assert [round(x, 2) for x in dif["lambda_curve"][0][1]] == DOC["lambda_start"]
    assert [round(x, 2) for x in dif["lambda_curve"][-1][1]] == DOC["lambda_end"]
