"""Keras and JAX models through ONNX: a Keras 3 model exported by Keras itself
(``model.export(path, format="onnx")``) and a JAX function converted by jax2onnx profile with
the analytic FLOPs (and, for JAX, XLA's own cost analysis of the same function)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("onnx", reason="the ONNX frontend needs the onnx extra (pip install -e '.[onnx]')")

from accelscope.workload import profile  # noqa: E402

KERAS = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Conv2D(32, 3, padding="same"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(64, activation="gelu"),
                              keras.layers.Dense(10)])
    model(np.zeros((1, 32, 32, 3), "float32"))  # Keras exports a model that has been called
    model.export(sys.argv[1], format="onnx")
    print(model.count_params())
""")


def test_a_keras_model_exported_by_keras_profiles_with_the_analytic_flops(tmp_path):
    if importlib.util.find_spec("keras") is None:  # not imported here: Keras picks its backend on import
        pytest.skip("the Keras path needs the keras extra (pip install -e '.[keras]')")
    path = tmp_path / "keras.onnx"
    # Keras's ONNX export with the torch backend goes through torch.onnx (no TensorFlow needed)
    r = subprocess.run([sys.executable, "-c", KERAS, str(path)], env=dict(os.environ, KERAS_BACKEND="torch"),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    params = int(r.stdout.strip().splitlines()[-1])
    batch = 4
    conv1 = 2 * batch * 32 * 32 * 16 * (3 * 3 * 3)
    conv2 = 2 * batch * 16 * 16 * 32 * (3 * 3 * 16)
    dense = 2 * batch * (32 * 64 + 64 * 10)
    p = profile(str(path), batch_size=batch)
    assert p.flops == pytest.approx(conv1 + conv2 + dense, rel=0.02)
    assert p.params == params and p.uncovered_ops == []
    assert {op.category for op in p.ops if op.flops} >= {"conv", "matmul", "elementwise", "reduction"}


def test_a_jax_function_through_jax2onnx_matches_xla_and_the_analytic_count(tmp_path):
    pytest.importorskip("jax", reason="the JAX path needs the jax extra (pip install -e '.[jax]')")
    pytest.importorskip("jax2onnx", reason="the JAX path needs the jax extra (pip install -e '.[jax]')")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    import onnx
    from jax2onnx import to_onnx

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    w1, w2 = jax.random.normal(k1, (256, 1024)), jax.random.normal(k2, (1024, 128))
    q = jax.random.normal(k3, (128, 128))

    def block(x):  # a two-layer MLP and an attention-like product, weights closed over
        h = jax.nn.gelu(x @ w1) @ w2
        scores = jax.nn.softmax((h @ q) @ h.T / 8.0, axis=-1)
        return scores @ h

    batch = 64
    path = tmp_path / "jax.onnx"
    onnx.save(to_onnx(block, [(batch, 256)]), str(path))
    analytic = 2 * batch * (256 * 1024 + 1024 * 128 + 128 * 128) + 2 * 2 * batch * batch * 128
    p = profile(str(path))
    assert p.batch_size == batch and p.params == 256 * 1024 + 1024 * 128 + 128 * 128
    assert p.flops == pytest.approx(analytic, rel=0.02)
    xla = jax.jit(block).lower(jnp.zeros((batch, 256))).compile().cost_analysis()
    xla = xla[0] if isinstance(xla, list) else xla
    # XLA counts every op's arithmetic (the softmax and GELU too): the products are within it
    assert analytic <= xla["flops"] <= p.total_flops * 1.05
