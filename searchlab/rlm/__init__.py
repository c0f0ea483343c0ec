"""The Regression Language Model: tokenizers, encoder-decoder, constrained decoding, training."""
