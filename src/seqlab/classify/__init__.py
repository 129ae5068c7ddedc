"""Part 3 of the lecture, relation to CNNs: Kim's (2014) sentence CNN beside RNN classifiers and
the NBSVM / MNB baselines, as scikit-learn estimators, the datasets of Kim's table, the
cross-validation protocol and the table itself."""
