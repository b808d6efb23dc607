"""One module per model family: its network (a Keras 3 model) and its Distribution."""
