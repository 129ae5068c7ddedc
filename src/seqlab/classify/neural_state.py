"""NeuralState: the checkpoint state of seqlab's neural estimators (TorchClassifier's four and
TreeClassifier), one plain dict of tensors, lists and strings for seqlab.checkpoint (never a
pickle). A subclass says how to rebuild its network from a config dict (`_from_config`)."""

from __future__ import annotations

import numpy as np

from seqlab.vocab import Vocab


class NeuralState:
    """get_state / from_state for an estimator with params, classes_, vocab_, model_ (a module with
    a `config`) and best_epoch_; the vectors travel by name only (a loaded KeyedVectors does not)."""

    def _from_config(self, config: dict):
        raise NotImplementedError

    def get_state(self) -> dict:
        """Plain dict (tensors, lists, strings) for seqlab.checkpoint; `from_state` inverts it."""
        params = {k: v for k, v in self.get_params().items() if k not in ("callback", "vectors", "device")}
        params["vectors"] = self.vectors if isinstance(self.vectors, str) else None
        return {
            "params": params,
            "classes": self.classes_.tolist(),
            "vocab": self.vocab_.to_dict(),
            "config": self.model_.config.to_dict(),
            "state_dict": self.model_.state_dict(),
            "best_epoch": self.best_epoch_,
        }

    @classmethod
    def from_state(cls, state: dict):
        est = cls(**state["params"])
        est.classes_ = np.asarray(state["classes"])
        est.vocab_ = Vocab.from_dict(state["vocab"])
        est.model_ = est._from_config(state["config"])
        est.model_.load_state_dict(state["state_dict"])
        est.model_.eval()
        est.best_epoch_ = state.get("best_epoch", 0)
        return est
