"""Part 1 of the lecture, word embeddings: word2vec (skip-gram / CBOW with negative sampling or
hierarchical softmax, subsampling, phrases), count-based vectors (one-hot, bag-of-words, TF-IDF,
co-occurrence, PPMI), GloVe, the KeyedVectors query object, analogy / similarity evaluation and
plots.

Where things are (imports run down this list, never up):

    train.py           train_vectors(corpus, config): whichever method a config describes
    benchmark.py       evaluate_vectors: the standard analogy / similarity benchmarks in one call
    word2vec.py        Word2Vec (gensim's API and workflow) -> word2vec_vocab.py (gensim's
                       vocabulary rules, the Huffman tree) and word2vec_train.py (driver)
                       -> word2vec_kernels.py (numba, negative sampling), word2vec_hs_kernels.py
                       (numba, hierarchical softmax) -> word2vec_sampling.py (the kernels' RNG,
                       noise table, subsampling)
    doc2vec.py         Doc2Vec (Paragraph Vector, gensim's API): a Word2Vec with document vectors
                       -> doc2vec_corpus.py (TaggedDocument, tags, encoding) and
                       doc2vec_kernels.py (numba; word2vec's driver, output layers and RNG)
    glove.py           GloVe -> glove_kernels.py (numba)
    ppmi.py            PPMI
    model.py           EmbeddingModel: what the three share (train once, attributes, .npz files)
    config.py          Word2VecConfig, Doc2VecConfig, GloveConfig, PPMIConfig, config_for
    counts.py          one-hot, bag of words, TF-IDF, co-occurrence matrices
    phrases.py         Phrases (word2phrase)
    corpus.py          reading, the vocabulary rule, encoding to id arrays (memory or disk)
    vector_sources.py  load_vectors (a name such as glove-6b-50d, or a file), from_pairs
    keyedvectors.py    KeyedVectors (gensim's query and file API) -> word_movers.py (wmdistance)
    vocab_matrix.py    VocabMatrix: keys <-> rows, per-key attributes, norms (KeyedVectors' base)
    evaluation.py      analogy and word-pair scoring, "king - man + woman" parsing
    file_formats.py    word2vec / GloVe vector files, the model .npz archive
    plot.py            2-D maps of words

This wing imports without torch (numpy, scipy and numba only).
"""
