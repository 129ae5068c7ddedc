"""seqlab: neural sequence models of text, from one lecture on recurrent networks.

Word embeddings (word2vec, GloVe, count-based vectors), character-level RNN/LSTM/GRU language
models, Kim's sentence CNN beside RNN classifiers, and an attention encoder-decoder.
"""

from seqlab.errors import SeqlabError

__version__ = "0.1.0"
__all__ = ["SeqlabError", "__version__"]
