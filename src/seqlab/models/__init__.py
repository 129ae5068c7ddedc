"""Neural models: recurrent cells and language models, sentence classifiers, seq2seq."""
