"""`GenotypeCheckpoint`: the derived genotype written after every epoch."""

import os

import keras

from keras_darts.architecture.genotype import cell_to_dot, plot_cell
from keras_darts.utils.io import atomic_write_json, atomic_write_text


class GenotypeCheckpoint(keras.callbacks.Callback):
    """Writes the model's current genotype after every epoch, atomically.

    Files in `directory`: `genotype.json` (the latest genotype with its epoch,
    the strategy class and `metadata`), `genotype_history.json` (one genotype per epoch),
    and per cell kind a `.dot` and a `.png` (`normal` / `reduce` for DARTS
    genotypes, `cell` for NAS-Bench-201; drawn by graphviz when installed,
    else by matplotlib).

    Args:
        directory: the run directory.
        plot: draw the cells.
        metadata: extra JSON-ready fields stored in `genotype.json`.

    Example:

    >>> model.fit(data.train, epochs=5, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[GenotypeCheckpoint("run")])  # doctest: +SKIP
    """

    def __init__(self, directory, plot=True, metadata=None):
        super().__init__()
        self.directory = directory
        self.plot = plot
        self.metadata = dict(metadata or {})
        self.history = []

    def get_resume_state(self):
        """The genotype records so far (saved by `RunCheckpoint`)."""
        return self.history

    def set_resume_state(self, state):
        """Continues from records saved by `RunCheckpoint`."""
        self.history = list(state)

    def on_epoch_end(self, epoch, logs=None):
        genotype = self.model.genotype()
        os.makedirs(self.directory, exist_ok=True)
        self.history.append({"epoch": epoch, "genotype": genotype.to_dict(),
                             "text": genotype.to_text()})
        extra = {"epoch": epoch, "strategy": type(self.model).__name__, **self.metadata}
        genotype.save(os.path.join(self.directory, "genotype.json"), **extra)
        atomic_write_json(os.path.join(self.directory, "genotype_history.json"), self.history)
        for kind in genotype.cell_kinds:
            atomic_write_text(os.path.join(self.directory, f"{kind}.dot"),
                              cell_to_dot(genotype, kind))
            if self.plot:
                plot_cell(genotype, os.path.join(self.directory, f"{kind}.png"), kind)
