"""Part 2 of the lecture, recurrent networks: character-level RNN/LSTM/GRU language models that
learn names, Shakespeare, LaTeX or C source and generate new text (config, corpus, batching,
the training loop, sampling, the names model and its cache, the loss plot)."""
