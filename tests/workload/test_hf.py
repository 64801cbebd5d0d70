"""A Hugging Face model built from its config (no download) through a keyword-input factory:
profiled, predicted and benched; its FLOPs equal FlopCounterMode's on a real run."""

import textwrap

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import accelscope

MODULE = textwrap.dedent('''
    import torch
    import transformers

    VOCAB, SEQ = 1000, 16

    def tiny_bert():
        return transformers.BertForMaskedLM(transformers.BertConfig(
            vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=128, max_position_embeddings=64, attn_implementation="eager"))

    def tiny_gpt2():
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(
            vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=2, n_positions=64,
            bos_token_id=0, eos_token_id=0, use_cache=False, attn_implementation="eager"))

    def token_inputs(batch_size):
        mask = torch.ones(batch_size, SEQ, dtype=torch.long)
        mask[0, -4:] = 0  # padding, so that a real run builds the 4-D mask the fake trace builds
        return {"input_ids": torch.randint(0, VOCAB, (batch_size, SEQ)), "attention_mask": mask}
''')


@pytest.fixture(scope="module")
def hf_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("hf")
    (d / "hfmodels.py").write_text(MODULE)
    import sys

    sys.path.insert(0, str(d))
    try:
        import hfmodels

        yield hfmodels
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("hfmodels", None)


def _flop_counter(model, inputs, task):
    counter = FlopCounterMode(display=False)
    if task == "infer":
        model.eval()
        with counter, torch.inference_mode():
            model(**inputs)
    else:
        model.train()
        with counter:
            model(**inputs).logits.float().mean().backward()
    return counter.get_total_flops()


@pytest.mark.slow
@pytest.mark.parametrize("factory", ["tiny_bert", "tiny_gpt2"])
@pytest.mark.parametrize("task", ["infer", "train"])
def test_keyword_inputs_profile_with_flop_counter_flops(hf_models, factory, task):
    spec = accelscope.WorkloadSpec(model=f"hfmodels:{factory}", inputs="hfmodels:token_inputs", batch_size=2,
                                   task=task)
    p = accelscope.profile(spec)
    torch.manual_seed(0)
    expected = _flop_counter(getattr(hf_models, factory)(), hf_models.token_inputs(2), task)
    assert p.flops == expected and p.flops > 0
    assert p.uncovered_ops == []
    assert p.spec.inputs == "hfmodels:token_inputs" and p.batch_size == 2
    if task == "train":
        assert p.flops_by_phase["backward"] == 2 * p.flops_by_phase["forward"]


@pytest.mark.slow
def test_keyword_inputs_predict_and_bench(hf_models, tmp_path):
    pred = accelscope.predict("hfmodels:tiny_bert", inputs="hfmodels:token_inputs", batch_size=2,
                              hardware="h100-sxm,t4", calibrated=False)
    assert [r.hardware for r in pred.results] and not pred.unavailable
    assert all(r.estimate.spec.inputs == "hfmodels:token_inputs" for r in pred.results)
    run = accelscope.bench("hfmodels:tiny_bert", inputs="hfmodels:token_inputs", batch_size=2, tasks="infer,train",
                           devices="cpu", max_time_s=0.3, store=tmp_path / "s.sqlite")
    assert [m.task for m in run.measurements] == ["infer", "train"]
    assert all(m.ok and m.step_time_s.median > 0 for m in run.measurements)
    # the stored points carry the spec, so calibration can profile them again
    cal = accelscope.calibrate("cpu", store=tmp_path / "s.sqlite")
    assert len(cal.points) == 2 and not cal.skipped and not cal.accepted  # two points cannot validate a fit
