"""How the DCNN's training settings were chosen (issue 13): short runs scored on dev sets only.

  sst2: three 4-epoch runs on SST-2's sentence-level training set, scored on its standard dev set
        (Adagrad lr 0.05 / 0.1 with weight decay 1e-5, Adadelta lr 1);
  trec: four 12-epoch runs on TREC's training part, scored on the 10% the estimator holds out;
  recipe: SST-2 (or `recipe sst1`) trained on Kim's phrases, scored on the standard dev set four
        times per epoch: the first recipe (b50) against the authors' Matlab code's (b4: batches of
        4, Adagrad lr 0.1 reset every 5 epochs, one L2 weight per layer), b4's parts alone, and
        single changes to b50 (fold2, d64, init: the Theano port's initialisation).
        (The runs quoted in docs/classify.md named b50 "default" and b4 "matlab".)

Prints one line per run: settings, dev accuracy per epoch, seconds per epoch. Test sets are not
used except for the sst2 line's final `test` column, printed for the record (not for choosing).

    python benchmarks/probe_dcnn_settings.py sst2|trec
    python benchmarks/probe_dcnn_settings.py recipe [sst2|sst1] [EPOCHS] [RUN ...]
"""

import sys
import time

import torch

from seqlab.classify.data import load_dataset
from seqlab.classify.estimators import DCNN_RECIPES, DCNNClassifier

RECIPES = {
    **DCNN_RECIPES,  # b50 (the first defaults), b4 (authors' code)
    "batch4": dict(batch_size=4, lr=0.1),  # b4's small batches alone
    "decay": dict(layer_decay=DCNN_RECIPES["b4"]["layer_decay"]),  # b4's per-layer L2 alone
    "fold2": dict(fold_every=True),  # b50, folding after both layers (authors' code)
    "d64": dict(embedding_dim=64),  # b50, wider embeddings
    "init": dict(),  # b50, the Theano port's initialisation (below)
}


class _GodinInit(DCNNClassifier):
    """The initialisation of the public Theano/Lasagne port (FredericGodin/DynamicCNN, which reports
    85-86 on SST-2): embeddings N(0, 0.01^2) instead of U[-0.25, 0.25]; convolutions and the output
    layer Glorot-uniform over the whole (maps, rows, width) filter bank."""

    def _build(self, *a):
        model = super()._build(*a)
        with torch.no_grad():
            pad = model.config.padding_idx
            model.embedding.weight.normal_(0.0, 0.01)
            model.embedding.weight[pad] = 0.0
            for conv in model.convs:
                J, K, rows, w = conv.maps_out, conv.maps_in, conv.rows, conv.width
                bound = (6.0 / ((K + J) * rows * w)) ** 0.5
                conv.conv.weight.uniform_(-bound, bound)
            torch.nn.init.xavier_uniform_(model.fc.weight)
            model.fc.bias.zero_()
        return model


def recipe(dataset: str, epochs: int, names: list[str]) -> None:
    ds = load_dataset(dataset)  # phrases, as the table trains SST
    for name in names:
        t = time.time()
        cls = _GodinInit if name == "init" else DCNNClassifier
        est = cls(epochs=epochs, seed=0, dev_checks=4, **RECIPES[name]).fit(*ds.train, *ds.dev)
        print(
            name,
            RECIPES[name],
            "dev",
            [[round(a, 3) for a in h["dev_checks"]] for h in est.history_],
            "best",
            round(est.dev_accuracy_, 4),
            "at epoch",
            est.best_check_,
            "s/epoch",
            [round(h["seconds"]) for h in est.history_],
            round(time.time() - t),
            flush=True,
        )


def main(which: str) -> None:
    torch.set_num_threads(1)
    if which == "recipe":
        a = sys.argv[2:]
        recipe(a[0] if a else "sst2", int(a[1]) if len(a) > 1 else 3, a[2:] or ["b50", "b4"])
        return
    if which == "sst2":
        ds = load_dataset("sst2", sst_train="sentences")
        for opt, lr, wd in [("adagrad", 0.05, 1e-5), ("adagrad", 0.1, 1e-5), ("adadelta", 1.0, 0.0)]:
            t = time.time()
            est = DCNNClassifier(optimizer=opt, lr=lr, weight_decay=wd, epochs=4, seed=0).fit(
                *ds.train, *ds.dev
            )
            print(
                opt,
                lr,
                wd,
                [round(h["dev_accuracy"], 3) for h in est.history_],
                [round(h["seconds"], 1) for h in est.history_],
                "test",
                round(est.score(*ds.test), 4),
                round(time.time() - t),
                flush=True,
            )
    else:
        ds = load_dataset("trec")
        for kw in [dict(), dict(lr=0.02), dict(embedding_dim=32), dict(weight_decay=1e-4)]:
            t = time.time()
            est = DCNNClassifier(epochs=12, seed=0, **kw).fit(*ds.train)
            print(
                kw,
                [round(h["dev_accuracy"], 3) for h in est.history_],
                "best",
                est.best_epoch_,
                round(time.time() - t),
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sst2")
