"""gqa_uptraining: converting a TinyTransformer to GQA/MQA (mean-pool, first head, random K/V), training from
given weights, and the claims docs/lab.md makes about the committed result."""
import pytest
import torch

from attn_ref.lab import ModelConfig, RepeatedSequences, TinyTransformer, TrainConfig, load_result, train
from attn_ref.lab.experiments.gqa_uptraining import convert_to_gqa

H, D, HD = 8, 32, 4          # heads, d_model, head dim


def _model(seed=0, **over):
    torch.manual_seed(seed)
    cfg = dict(vocab_size=20, d_model=D, n_layers=2, n_heads=H, d_ff=16, attention="mha", positions="rope")
    cfg.update(over)
    return TinyTransformer(ModelConfig(**cfg)).eval()


def _tokens():
    return torch.randint(0, 20, (3, 11), generator=torch.Generator().manual_seed(5))


def _heads(w):
    """(n_heads·d_h, d) projection weight -> list of the heads' (d_h, d) blocks."""
    return [w[h * HD:(h + 1) * HD] for h in range(w.shape[0] // HD)]


@pytest.mark.parametrize("G", [2, 1])
def test_mean_and_first_conversion_weights(G):
    mha = _model()
    size = H // G                                                    # query heads per KV head
    for method in ("mean", "first"):
        gqa = convert_to_gqa(mha, G, method)
        assert gqa.config.attention == "gqa" and gqa.config.n_kv_heads == G
        for i in range(2):
            src, dst = mha.blocks[i].attn, gqa.blocks[i].attn
            for name in ("k_proj", "v_proj"):
                old = _heads(getattr(src, name).weight.detach())
                new = _heads(getattr(dst, name).weight.detach())
                assert len(new) == G
                for g in range(G):
                    group = old[g * size:(g + 1) * size]
                    want = sum(group) / size if method == "mean" else group[0]
                    torch.testing.assert_close(new[g], want, atol=1e-7, rtol=0)
            for name in ("q_proj", "o_proj"):
                assert torch.equal(getattr(dst, name).weight, getattr(src, name).weight)
        for name, p in mha.state_dict().items():                     # everything else copied
            if "k_proj" not in name and "v_proj" not in name:
                assert torch.equal(gqa.state_dict()[name], p), name


def test_random_conversion_is_seeded_and_keeps_the_rest():
    mha = _model()
    a = convert_to_gqa(mha, 2, "random", torch.Generator().manual_seed(1))
    b = convert_to_gqa(mha, 2, "random", torch.Generator().manual_seed(1))
    c = convert_to_gqa(mha, 2, "random", torch.Generator().manual_seed(2))
    mean = convert_to_gqa(mha, 2, "mean")
    ka, kb, kc = (m.blocks[0].attn.k_proj.weight for m in (a, b, c))
    assert torch.equal(ka, kb) and not torch.equal(ka, kc)
    assert not torch.allclose(ka, mean.blocks[0].attn.k_proj.weight)
    assert ka.abs().max() <= D ** -0.5                                 # nn.Linear's default range
    assert torch.equal(a.blocks[1].attn.q_proj.weight, mha.blocks[1].attn.q_proj.weight)
    assert torch.equal(a.embed.weight, mha.embed.weight)


@pytest.mark.parametrize("method", ["mean", "first"])
def test_one_query_head_per_kv_head_is_the_identity(method):
    mha = _model()
    same = convert_to_gqa(mha, H, method)                            # r = 1: G = H
    assert same is not mha and same.config == mha.config
    x = _tokens()
    assert torch.equal(same(x).logits, mha(x).logits)


def test_conversion_leaves_the_source_and_the_global_rng_alone():
    mha = _model()
    before = {k: v.clone() for k, v in mha.state_dict().items()}
    state = torch.get_rng_state()
    gqa = convert_to_gqa(mha, 2, "mean")
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(before[k], v) for k, v in mha.state_dict().items())
    assert gqa(_tokens()).logits.shape == (3, 11, 20)
    # the pooled model computes what attn_ref's GQA attention computes with pooled K/V (1 KV head = MQA)
    mqa = convert_to_gqa(mha, 1, "mean")
    assert mqa.blocks[0].attn.k_proj.weight.shape == (HD, D)
    with pytest.raises(ValueError, match="n_kv_heads"):
        convert_to_gqa(mha, 3, "mean")
    with pytest.raises(ValueError, match="method"):
        convert_to_gqa(mha, 2, "median")


def test_training_from_given_weights(tmp_path):
    task = RepeatedSequences(vocab_size=20, length=16, min_period=3, max_period=6, max_prefix=2)
    mha = _model()
    gqa = convert_to_gqa(mha, 2, "first")
    init = {k: v.clone() for k, v in gqa.state_dict().items()}
    seen = {}

    def probe(model, step):
        if step == 0:
            seen["logits"] = model(_tokens()).logits.clone()
        return {}

    tc = TrainConfig(steps=4, batch_size=4, log_every=2, warmup=1, threads=1)
    res = train(gqa.config, task, tc, init_state=init, probe=probe, progress=False)
    assert torch.equal(seen["logits"], gqa(_tokens()).logits)       # step 0 = the given weights
    assert not torch.equal(res.model.blocks[0].attn.k_proj.weight, init["blocks.0.attn.k_proj.weight"])
    again = train(gqa.config, task, tc, init_state=init, progress=False)
    assert all(torch.equal(v, again.model.state_dict()[k]) for k, v in res.model.state_dict().items())
    # a checkpoint written from one set of weights is not resumed from another
    ck, ck_tc = str(tmp_path / "ck.pt"), TrainConfig(steps=4, batch_size=4, log_every=2, warmup=1, checkpoint_every=2,
                                                     threads=1)
    train(gqa.config, task, ck_tc, init_state=init, progress=False, checkpoint_path=ck, stop_at=2)
    other = {k: v.clone() for k, v in convert_to_gqa(mha, 2, "mean").state_dict().items()}
    with pytest.raises(ValueError, match="different configuration"):
        train(gqa.config, task, ck_tc, init_state=other, progress=False, checkpoint_path=ck)
    resumed = train(gqa.config, task, ck_tc, init_state=init, progress=False, checkpoint_path=ck)
    assert resumed.resumed_from == 2
    assert all(torch.equal(v, resumed.model.state_dict()[k]) for k, v in res.model.state_dict().items())


# ------------------------------------------------------------------ the claims docs/lab.md makes (committed file)

@pytest.fixture(scope="module")
def res():
    return load_result("gqa_uptraining")


def _acc(m, G, method):
    return m["converted"][f"kv{G}"]["methods"][method]


def test_committed_reference_and_cache_sizes(res):
    m = res["metrics"]
    assert m["seeds"] == [0, 1, 2] and m["eval_steps"] == [0, 10, 20, 40, 80, 120, 160, 200]
    assert m["alpha"][3] == 0.05                                        # 40 of 800 pre-training steps
    assert min(m["mha"]["accuracy"]) >= 0.99
    assert m["mha"]["kv_cache_bytes_per_token"] == 1024                 # 2 layers · 8 heads · 8 · K,V · 4 bytes
    assert m["converted"]["kv2"]["kv_cache_bytes_per_token"] == 256
    assert m["converted"]["kv1"]["kv_cache_bytes_per_token"] == 128
    for G in (2, 1):                                                    # heads in a group: nearly orthogonal K/V
        for sim in m["converted"][f"kv{G}"]["kv_weight_similarity"]:
            assert max(sim["k"] + sim["v"]) < 0.1
    for G in (2, 1):                                                    # scratch GQA/MQA for 1,000 steps
        assert m["scratch"][f"kv{G}"]["accuracy"] >= 0.998 and m["scratch"][f"kv{G}"]["steps"] == 1000
        assert dict((c[0], c[2]) for c in m["scratch"][f"kv{G}"]["curve"])[100] < 0.05


def test_committed_conversion_damage_and_ordering(res):
    m = res["metrics"]
    for G in (2, 1):
        mean, first, rand = (_acc(m, G, k) for k in ("mean", "first", "random"))
        for s in range(3):
            assert max(mean["accuracy"][s][0], first["accuracy"][s][0], rand["accuracy"][s][0]) < 0.8
            for i in range(4):                                          # steps 0 .. 40 (alpha <= 5%): every seed
                assert first["accuracy"][s][i] > mean["accuracy"][s][i] > rand["accuracy"][s][i]
            assert max(rand["accuracy"][s][:5]) < 0.07                  # random K/V: chance-level up to 80 steps
        fm, mm, rm = (x["accuracy_stats"]["mean"] for x in (first, mean, rand))
        assert all(f > a > r for f, a, r in zip(fm[:6], mm[:6], rm[:6]))  # mean over seeds, steps 0 .. 120
        assert min(fm[-1], mm[-1], rm[-1]) >= 0.99                      # all recovered after 200 steps (25%)
        assert m["ranking_of_means"][f"kv{G}"][3] == ["first", "mean", "random"]
    # GQA keeps more than MQA right after conversion (every seed)
    for method in ("mean", "first"):
        for s in range(3):
            assert _acc(m, 2, method)["accuracy"][s][0] > _acc(m, 1, method)["accuracy"][s][0]
    at5 = {(G, k): _acc(m, G, k)["accuracy_stats"]["mean"][3] for G in (2, 1) for k in ("mean", "first")}
    assert at5[2, "mean"] >= 0.95 and at5[2, "first"] >= 0.97 and at5[1, "first"] >= 0.9 and at5[1, "mean"] < 0.75


def test_committed_retrieval_heads(res):
    r = res["metrics"]["retrieval_mass"]
    mha, mean, first = torch.tensor(r["mha"]), torch.tensor(r["kv2_mean_0_steps"]), torch.tensor(r["kv2_first_0_steps"])
    assert mha[0].min() > 0.4                                           # every layer-0 head retrieves
    assert torch.equal(first[0, [0, 4]], mha[0, [0, 4]])                # first heads of the groups: untouched
    assert first[0, [1, 2, 3, 5, 6, 7]].max() < 0.15
    assert mean[0].max() < 0.35
