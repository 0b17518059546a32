"""Fine-tuning the serving model on a dataset from the log: data, loop, sanity set, the run."""
