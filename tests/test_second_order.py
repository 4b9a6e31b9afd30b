"""The second-order architecture gradient against exact autodiff."""

import keras
import numpy as np
import tensorflow as tf

from keras_darts.strategies import BilevelSearch

PRIMS = ("none", "skip_connect", "sep_conv_3x3", "avg_pool_3x3")


def _setup(fd_scale=0.01):
    keras.utils.set_random_seed(3)
    model = BilevelSearch(order=2, fd_scale=fd_scale, num_classes=3, input_shape=(6, 6, 1), layers=3, channels=2,
                          steps=1, multiplier=1, stem_multiplier=1, primitives=PRIMS,
                          alpha_init_scale=0.5, grad_clip=None, seed=3)
    model.compile(optimizer=None)
    rng = np.random.default_rng(3)
    xt = tf.constant(rng.normal(size=(8, 6, 6, 1)).astype("float32"))
    yt = tf.constant(rng.integers(0, 3, 8))
    xv = tf.constant(rng.normal(size=(8, 6, 6, 1)).astype("float32"))
    yv = tf.constant(rng.integers(0, 3, 8))
    # One weight step so that the momentum buffers are not zero.
    model.weight_step(xt, yt)
    return model, xt, yt, xv, yv


def _exact_unrolled_gradient(model, xt, yt, xv, yv):
    """d/da L_val(w - xi * (mu * b + dL_train/dw + wd * w), a), by nested autodiff."""
    tvars = model.trainable_variables
    ntv = [tf.convert_to_tensor(v) for v in model.non_trainable_variables]
    a_idx = [i for i, v in enumerate(tvars) if "architecture" in v.path]
    w_idx = [i for i in range(len(tvars)) if i not in a_idx]
    values = [tf.convert_to_tensor(v) for v in tvars]
    opt = model.optimizer
    xi = float(keras.ops.convert_to_numpy(opt.learning_rate))

    def loss(vals, x, y):
        logits, _ = model.stateless_call(vals, ntv, x, training=True)
        return tf.reduce_mean(model.search_loss(y, logits))

    alphas = [values[i] for i in a_idx]
    with tf.GradientTape() as outer:
        outer.watch(alphas)
        ws = [values[i] for i in w_idx]
        with tf.GradientTape() as inner:
            inner.watch(ws)
            vals = list(values)
            for i, a in zip(a_idx, alphas):
                vals[i] = a
            lt = loss(vals, xt, yt)
        g = inner.gradient(lt, ws)
        vals2 = list(vals)
        for k, i in enumerate(w_idx):
            b = tf.convert_to_tensor(opt.buffer(tvars[i]))
            vals2[i] = ws[k] - xi * (opt.momentum * b + g[k] + opt.coupled_weight_decay * ws[k])
        lv = loss(vals2, xv, yv)
    return outer.gradient(lv, alphas)


def _relative_error(model, xt, yt, xv, yv):
    approx, _ = model.unrolled_arch_gradient(xt, yt, xv, yv)
    exact = _exact_unrolled_gradient(model, xt, yt, xv, yv)
    approx = np.concatenate([keras.ops.convert_to_numpy(g).ravel() for g in approx])
    exact = np.concatenate([keras.ops.convert_to_numpy(g).ravel() for g in exact])
    return np.linalg.norm(approx - exact) / np.linalg.norm(exact), exact


def test_unrolled_gradient_converges_to_exact_autodiff():
    # The only approximation left is the finite-difference Hessian-vector
    # product; with a small step it matches nested autodiff through the
    # virtual step. Measured relative errors on this deliberately tiny, very
    # non-linear net: 2.5e-5 at fd_scale=3e-4, 5.7e-3 at 1e-3, 0.099 at the
    # reference's 0.01 (ReLU kinks within the step dominate there).
    rel_small, exact = _relative_error(*_setup(fd_scale=3e-4))
    assert rel_small < 1e-3, rel_small
    rel_ref, _ = _relative_error(*_setup(fd_scale=1e-2))
    assert rel_ref < 0.25, rel_ref
    model, xt, yt, xv, yv = _setup()
    # The second-order term matters: the first-order gradient is clearly different.
    with tf.GradientTape() as tape:
        loss, _, _ = model.compute_search_loss(xv, yv)
    first = np.concatenate([keras.ops.convert_to_numpy(g).ravel()
                            for g in tape.gradient(loss, model.arch_variables)])
    assert np.linalg.norm(first - exact) / np.linalg.norm(exact) > 10 * rel_small


def test_unrolled_step_restores_weights_exactly():
    model, xt, yt, xv, yv = _setup()
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.weight_variables]
    approx, _ = model.unrolled_arch_gradient(xt, yt, xv, yv)
    after = [keras.ops.convert_to_numpy(v) for v in model.weight_variables]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(keras.ops.convert_to_numpy(g)).all() for g in approx)


def test_second_order_requires_coupled_sgd():
    import pytest

    model = BilevelSearch(order=2, num_classes=3, input_shape=(6, 6, 1), layers=3, channels=2,
                          steps=1, multiplier=1, primitives=PRIMS)
    with pytest.raises(ValueError, match="CoupledSGD"):
        model.compile(optimizer=keras.optimizers.SGD(0.1))


def _reuse_model(reuse, arch_enabled=True):
    from keras_darts.optimizers import CoupledAdam

    keras.utils.set_random_seed(3)
    model = BilevelSearch(order=2, reuse_train_gradient=reuse, num_classes=3,
                          input_shape=(6, 6, 1), layers=3, channels=2, steps=1, multiplier=1,
                          stem_multiplier=1, primitives=PRIMS, alpha_init_scale=0.5, seed=3)
    # A large architecture step, so that the alphas' move changes the weight gradient.
    model.compile(arch_optimizer=CoupledAdam(0.1, beta_1=0.5))
    model.arch_updates_enabled.assign(1.0 if arch_enabled else 0.0)
    return model


def _batches():
    rng = np.random.default_rng(5)
    x = [tf.constant(rng.normal(size=(8, 6, 6, 1)).astype("float32")) for _ in range(2)]
    y = [tf.constant(rng.integers(0, 3, 8)) for _ in range(2)]
    return (x[0], y[0]), (x[1], y[1])


def _values(variables):
    return np.concatenate([keras.ops.convert_to_numpy(v).ravel() for v in variables])


def test_reuse_train_gradient_steps_weights_from_the_alphas_before_the_arch_step():
    batch = _batches()
    reuse = _reuse_model(True)
    default = _reuse_model(False)
    frozen = _reuse_model(False, arch_enabled=False)
    alphas0 = _values(reuse.arch_variables)
    # The option under test runs traced; the two it is compared with run eagerly.
    tf.function(reuse.train_step)(batch)
    for model in (default, frozen):
        model.train_step(batch)
    # The architecture step is the default's: same unrolled gradient.
    np.testing.assert_allclose(_values(reuse.arch_variables), _values(default.arch_variables),
                               atol=1e-6)
    assert np.abs(_values(reuse.arch_variables) - alphas0).max() > 0.05
    # The weight step used the gradient at the old alphas: what a step with frozen alphas does.
    np.testing.assert_allclose(_values(reuse.weight_variables),
                               _values(frozen.weight_variables), atol=1e-6)
    assert np.abs(_values(reuse.weight_variables)
                  - _values(default.weight_variables)).max() > 1e-4
    # The momentum buffers too.
    np.testing.assert_allclose(
        _values([reuse.optimizer.buffer(v) for v in reuse.weight_variables]),
        _values([frozen.optimizer.buffer(v) for v in frozen.weight_variables]), atol=1e-6)


def test_second_order_runs_five_passes_traced_as_two_bodies(monkeypatch):
    # Five passes (four with reuse_train_gradient) are calls of two traced bodies: the pass
    # with the weights' gradients and the one with the alphas' only.
    counts = {}
    for reuse in (False, True):
        model = _reuse_model(reuse)
        calls, bodies = [], []
        call, body = model.pass_gradients, model._pass_gradients
        monkeypatch.setattr(model, "pass_gradients",
                            lambda *a, **k: calls.append(k.get("weights", True)) or call(*a, **k))
        monkeypatch.setattr(model, "_pass_gradients",
                            lambda *a: bodies.append(a[3]) or body(*a))
        tf.function(model.train_step).get_concrete_function(_batches())
        counts[reuse] = (sorted(calls), sorted(bodies))
    assert counts[False] == ([False, False, True, True, True], [False, True])
    assert counts[True] == ([False, False, True, True], [False, True])


def test_reuse_train_gradient_needs_second_order():
    import pytest

    from keras_darts.search import SearchConfig

    with pytest.raises(ValueError, match="needs order=2"):
        BilevelSearch(order=1, reuse_train_gradient=True, num_classes=3, input_shape=(6, 6, 1),
                      layers=3, channels=2, steps=1, multiplier=1, primitives=PRIMS)
    with pytest.raises(ValueError, match="needs order=2"):
        SearchConfig.from_preset("small", reuse_train_gradient=True).validate()
    with pytest.raises(ValueError, match=r"Unknown search settings \['order', "
                                         r"'reuse_train_gradient'\] for method 'single-level'"):
        SearchConfig.from_preset("small", method="single-level", order=2,
                                 reuse_train_gradient=True).validate()
    SearchConfig.from_preset("small", method="sp-darts", order=2,
                             reuse_train_gradient=True).validate()
