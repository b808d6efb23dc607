"""Training: strategies, the input pipeline, the loop with checkpoints, evaluation."""

from tfar.training.strategy import STRATEGIES, get_strategy
from tfar.training.trainer import train_and_evaluate

__all__ = ["STRATEGIES", "get_strategy", "train_and_evaluate"]
