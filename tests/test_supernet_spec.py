"""The one factory of search models' supernets (`SupernetSpec`) and `adapt_search_space`."""

import keras
import numpy as np
import pytest

from helpers import TINY, to_numpy
from keras_darts.data import search_data
from keras_darts.search_space import SupernetSpec, get_search_space, num_edges
from keras_darts.strategies import BilevelSearch, DistributedCellSearch

DIGITS = dict(num_classes=10, input_shape=(8, 8, 1))


def test_create_resolves_the_space_and_round_trips_through_its_arguments():
    spec = SupernetSpec.create(**DIGITS, space="s3", **TINY, seed=3)
    assert spec.space == get_search_space("s3")
    assert spec.input_shape == (8, 8, 1) and spec.layers == 3 and spec.seed == 3
    assert SupernetSpec.create(**spec.arguments()) == spec
    narrowed = spec.restrict(normal_active=[[1, 2]] * 5)
    assert narrowed.space.normal_active == [[1, 2]] * 5
    assert narrowed.space.reduce_active is None and spec.space.normal_active is None
    assert SupernetSpec.create(**narrowed.arguments()) == narrowed
    network, architecture = narrowed.build()
    assert network.cell_types == ["normal", "reduce", "reduce"]
    assert architecture.mask("normal")[:, 0].tolist() == [False] * 5  # 'none' is off


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(8, 8)), "input_shape must be \\(height, width, channels\\)"),
    (dict(space="nowhere"), "nowhere"),
    (dict(precision="float8"), "float8"),
    (dict(space="nb201", edge_normalization=True),
     "edge_normalization needs a DARTS-family search space; 'nb201' has nb201 cells"),
    (dict(primitives=["sep_conv_3x3", "warp_drive"]), "warp_drive"),
])
def test_impossible_specs_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SupernetSpec.create(**{**DIGITS, **TINY, **kwargs})


class NoPooling(BilevelSearch):
    """A strategy that searches its space without the pooling ops (no cell or op edited)."""

    def adapt_search_space(self, spec):
        keep = [i for i, op in enumerate(spec.space.primitives) if "pool" not in op]
        edges = num_edges(spec.steps)
        return spec.restrict(normal_active=[keep] * edges, reduce_active=[keep] * edges)


def test_a_strategy_adapts_its_space_and_its_search_never_uses_what_it_removed():
    keras.utils.set_random_seed(0)
    model = NoPooling(**DIGITS, **TINY, seed=0, order=1)
    pools = {"max_pool_3x3", "avg_pool_3x3"}
    computed = {model.primitives[i] for cell in model.network.cells for edge in cell.edges
                for i in edge.computed_ops}
    assert computed and not computed & pools  # the pooling ops are not even built
    for kind in ("normal", "reduce"):
        mask = model.architecture.mask(kind)
        assert not mask[:, [model.primitives.index(p) for p in pools]].any()
    model.compile(epochs=1, steps_per_epoch=4)
    model.fit(search_data("digits", batch_size=16, seed=0, max_train=128).train, epochs=1,
              steps_per_epoch=4, verbose=0)
    genotype = model.genotype()
    assert not {op for op, _ in genotype.normal + genotype.reduce} & pools
    # The config holds the arguments as given; rebuilding adapts them again.
    config = model.get_config()
    assert config["normal_active"] is None
    clone = NoPooling.from_config(config)
    assert clone.supernet_spec == model.supernet_spec


def test_from_spec_builds_what_the_constructor_builds():
    spec = SupernetSpec.create(**DIGITS, space="s3", **TINY, seed=5)
    a = BilevelSearch.from_spec(spec, order=2)
    b = BilevelSearch(**DIGITS, space="s3", **TINY, seed=5, order=2)
    assert a.supernet_spec == b.supernet_spec and a.order == 2
    np.testing.assert_array_equal(to_numpy(a.architecture.variables_by_kind["normal"]),
                                  to_numpy(b.architecture.variables_by_kind["normal"]))
    assert [v.shape for v in a.weight_variables] == [v.shape for v in b.weight_variables]


def test_d_darts_adapts_to_per_cell_alphas_and_refuses_other_cell_families():
    model = DistributedCellSearch(**DIGITS, **TINY, per_cell_alphas=False)
    assert model.supernet_spec.per_cell_alphas and model.architecture.per_cell
    nb201_like = get_search_space("nb201")
    with pytest.raises(ValueError, match="search space 'nb201' has nb201 cells"):
        DistributedCellSearch(**DIGITS, space=nb201_like, cells_per_stage=1)


def test_an_adaptation_that_returns_no_spec_is_refused():
    class Broken(BilevelSearch):
        def adapt_search_space(self, spec):
            spec.restrict(normal_active=[[1]] * 5)  # forgot to return it

    with pytest.raises(TypeError, match="Broken.adapt_search_space must return a SupernetSpec"):
        Broken(**DIGITS, **TINY)
