"""Part 1 of the lecture, word embeddings: word2vec (skip-gram / CBOW with negative sampling,
subsampling, phrases), count-based vectors (one-hot, bag-of-words, TF-IDF, co-occurrence, PPMI),
GloVe, the KeyedVectors query object, analogy / similarity evaluation and plots.

This wing imports without torch (numpy, scipy and numba only).
"""
