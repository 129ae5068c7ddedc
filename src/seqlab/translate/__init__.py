"""Part 4 of the lecture, attention: an encoder-decoder translator (data, training loop, the
Translator that decodes with greedy or beam search, unknown-word backoff, attention maps)."""
