"""Evaluation: tokenizer quality, metrics, benchmarks."""
