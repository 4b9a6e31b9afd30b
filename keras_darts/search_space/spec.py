"""`SupernetSpec`: what a search strategy searches over, and the one factory that builds it.

A spec is a search space (`SearchSpace`: cell family, candidate ops, per-edge
active ops) at a size (cells, channels, nodes ...) together with the form of
its architecture parameters (activation, temperature, one alpha per cell kind
or per cell, initialisation, PC-DARTS's edge weights). `SupernetSpec.build`
makes the supernet layer and its `ArchitectureParameters`; every search model
is built through it (`SearchModel.__init__`).

A strategy adapts the space it is given by overriding
`SearchModel.adapt_search_space(spec)` and returning a changed spec (e.g.
D-DARTS gives every cell its own alphas, DARTS-PD's path-wise training keeps
the top-k ops of each edge): cells and ops stay as they are.
"""

import dataclasses

from keras_darts.search_space.cells import edge_endpoints
from keras_darts.search_space.ops import op_spec
from keras_darts.search_space.spaces import SearchSpace, active_lists, get_search_space
from keras_darts.search_space.supernet import check_stem
from keras_darts.utils.precision import check_precision, precision_policy


@dataclasses.dataclass(frozen=True)
class SupernetSpec:
    """A search space at a size, with the form of its architecture parameters.

    Make one with `SupernetSpec.create` (which resolves a space name and its
    overrides); change one with `replace` or `restrict`; build it with `build`.

    Attributes:
        num_classes: classes.
        input_shape: `(height, width, channels)` of the images.
        space: the resolved `SearchSpace`.
        layers: cells of a DARTS-family supernet (8 in the paper).
        channels: initial channels (16).
        steps: intermediate nodes per cell (4).
        multiplier: nodes concatenated per cell (4).
        stem_multiplier: CIFAR stem channels factor (3).
        stem: `"cifar"` (one 3x3 conv at full resolution) or `"imagenet"`
            (three stride-2 convs: 224 -> 28 before the first cell, as
            PC-DARTS searches ImageNet; DARTS family only).
        cells_per_stage: NAS-Bench-201 cells per stage (5).
        reductions: explicit reduction cell indices (None: layers//3, 2*layers//3).
        partial_channels: PC-DARTS's `K` (1: off; DARTS family only).
        edge_normalization: PC-DARTS's learned edge weights (DARTS family only).
        activation: how alphas become mixing weights (`"softmax"`, `"sigmoid"` ...).
        temperature: initial temperature of the activation.
        per_cell_alphas: one alpha variable per cell instead of per cell kind.
        alpha_init_scale: std of the initial alphas.
        alpha_init_value: constant added to the initial alphas, or `"uniform"`.
        seed: seed of the alpha initialisation.
        precision: the supernet's compute dtype policy (`keras_darts.utils.precision`).

    Example:

    >>> spec = SupernetSpec.create(10, (28, 28, 1), space="s3", layers=3, channels=4, steps=2,
    ...                            multiplier=2)
    >>> network, architecture = spec.restrict(normal_active=[[1, 2]] * 5).build()
    >>> network.cell_types
    ['normal', 'reduce', 'reduce']
    """

    num_classes: int
    input_shape: tuple
    space: SearchSpace
    layers: int = 8
    channels: int = 16
    steps: int = 4
    multiplier: int = 4
    stem_multiplier: int = 3
    stem: str = "cifar"
    cells_per_stage: int = 5
    reductions: tuple = None
    partial_channels: int = 1
    edge_normalization: bool = False
    activation: str = "softmax"
    temperature: float = 1.0
    per_cell_alphas: bool = False
    alpha_init_scale: float = 1e-3
    alpha_init_value: object = 0.0
    seed: int = None
    precision: str = "float32"

    @classmethod
    def create(cls, num_classes, input_shape, space="darts", op_subsets=None, primitives=None,
               normal_active=None, reduce_active=None, **kwargs):
        """Resolves a space (name or `SearchSpace`) and its overrides into a spec.

        Args:
            num_classes: classes.
            input_shape: `(height, width, channels)`.
            space: a search-space name (`search_space_names()`) or a `SearchSpace`.
            op_subsets: per-edge op names per cell kind (dict or JSON path).
            primitives: candidate op names, overriding the space's.
            normal_active: per-edge active op indices of normal cells (None: the space's).
            reduce_active: same for reduction cells.
            **kwargs: the other fields (`layers`, `channels`, `activation` ...).

        Returns:
            A `SupernetSpec`.

        Raises:
            ValueError: for a malformed input shape, an unknown space or op
                (naming it), a bad op subset, an unknown precision, or edge
                normalisation outside the DARTS family.
        """
        input_shape = tuple(int(d) for d in input_shape)
        if len(input_shape) != 3 or min(input_shape) < 1:
            raise ValueError(
                f"input_shape must be (height, width, channels). Received: input_shape={input_shape}"
            )
        if not isinstance(space, SearchSpace):
            space = get_search_space(space, op_subsets)
        spec = cls(int(num_classes), input_shape, space, **kwargs)
        return spec.restrict(primitives, normal_active, reduce_active)

    def __post_init__(self):
        check_precision(self.precision)
        for name in self.space.primitives:
            op_spec(name)  # an unknown op fails here, before anything is built
        if self.edge_normalization and self.space.family != "darts":
            raise ValueError("edge_normalization needs a DARTS-family search space; "
                             f"{self.space.name!r} has {self.space.family} cells.")
        check_stem(self.stem, self.channels)
        if self.stem != "cifar" and self.space.family != "darts":
            raise ValueError(f"stem={self.stem!r} needs a DARTS-family search space; "
                             f"{self.space.name!r} has {self.space.family} cells.")

    def replace(self, **changes):
        """A copy with `changes` (field names as keyword arguments), checked again.

        Example:

        >>> spec.replace(per_cell_alphas=True).per_cell_alphas  # doctest: +SKIP
        True
        """
        return dataclasses.replace(self, **changes)

    def restrict(self, primitives=None, normal_active=None, reduce_active=None):
        """A copy whose space has other candidate ops or per-edge active ops (None: unchanged).

        Args:
            primitives: candidate op names (the alpha columns).
            normal_active: per-edge active op indices of normal cells.
            reduce_active: same for reduction cells.

        Returns:
            A `SupernetSpec` (this one if nothing changes).
        """
        if primitives is None and normal_active is None and reduce_active is None:
            return self
        space = self.space
        space = SearchSpace(
            space.name, space.family,
            tuple(primitives) if primitives is not None else space.primitives,
            normal_active if normal_active is not None else space.normal_active,
            reduce_active if reduce_active is not None else space.reduce_active,
            space.op_subsets)
        return self.replace(space=space)

    def build(self, name="supernet"):
        """Builds the supernet layer and its architecture parameters (neither is built yet).

        The supernet's layers compute in `precision`'s dtype; the alphas are float32.

        Args:
            name: the supernet layer's name.

        Returns:
            `(network, architecture)`: a `DartsSupernet` or `NB201Supernet` and
            an `ArchitectureParameters` with one alpha row per edge.

        Raises:
            ValueError: for impossible sizes or architecture settings (see
                `DartsSupernet`, `NB201Supernet` and `ArchitectureParameters`).
        """
        # Imported here: `keras_darts.architecture` depends on this package (active-op checks).
        from keras_darts.architecture.parameters import ArchitectureParameters

        space = self.space
        with precision_policy(self.precision):
            network = space.build_supernet(
                self.num_classes, layers=self.layers, channels=self.channels, steps=self.steps,
                multiplier=self.multiplier, stem_multiplier=self.stem_multiplier,
                reductions=self.reductions, cells_per_stage=self.cells_per_stage,
                partial_channels=self.partial_channels, stem=self.stem, name=name,
            )
        edge_nodes = None
        if self.edge_normalization:
            edge_nodes = [node for node, _ in edge_endpoints(self.steps)]
        architecture = ArchitectureParameters(
            network.num_edges, space.primitives, network.cell_types,
            activation=self.activation, temperature=self.temperature,
            per_cell=self.per_cell_alphas, init_scale=self.alpha_init_scale,
            init_value=self.alpha_init_value,
            normal_active=arch_active(space.normal_active, len(space.primitives)),
            reduce_active=arch_active(space.reduce_active, len(space.primitives)),
            seed=self.seed, kinds=space.kinds, edge_nodes=edge_nodes, name="architecture",
        )
        return network, architecture

    def arguments(self):
        """The spec as `create`'s keyword arguments (JSON-serialisable, for model configs).

        Example:

        >>> SupernetSpec.create(**spec.arguments()) == spec  # doctest: +SKIP
        True
        """
        args = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        space = args.pop("space")
        args.update(
            input_shape=list(self.input_shape), space=space.name, op_subsets=space.op_subsets,
            primitives=list(space.primitives),
            normal_active=active_lists(space.normal_active),
            reduce_active=active_lists(space.reduce_active),
            reductions=None if self.reductions is None else list(self.reductions),
            edge_normalization=bool(self.edge_normalization))
        return args


def arch_active(active, num_ops):
    """Per-edge op masks of the alphas: a removed edge (empty list) keeps all columns.

    The alphas of an edge the supernet does not compute never enter a
    forward pass; leaving their row unmasked keeps the activations finite.

    Args:
        active: per-edge active op indices, or None (every op).
        num_ops: candidate ops.

    Returns:
        Lists of column indices per edge, or None.
    """
    if active is None:
        return None
    return [list(a) if len(a) else list(range(num_ops)) for a in active]
